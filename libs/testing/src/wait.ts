/** Polls `fn` until it returns a truthy value, or throws with `what` after timeoutMs. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits for `p` at most `ms`, then goes on with a warning naming `what`: for
 * teardown that may hang on a server a test killed (the runner's force exit
 * ends what is left once the file's tests are done).
 */
export async function bounded(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  try {
    const won = await Promise.race([p.then(() => 'done' as const, () => 'done' as const), late]);
    if (won === 'late') console.warn(`teardown: ${what} did not finish within ${ms} ms; going on`);
  } finally {
    clearTimeout(timer);
  }
}
