/**
 * Dojo delivers events at least once: a webhook that is not answered 2xx, and a HandleEventV1 that is not
 * answered in time, answered with an error or lost with its connection, is delivered again. The sandbox does so
 * a few times, quickly, so that a test sees the redelivery within seconds: after each failed delivery it waits
 * the next of these (ms), and none is started once this many ms have passed since the first, or once the
 * sandbox is closing.
 */
export const REDELIVERY_DELAYS_MS: readonly number[] = [250, 1_000, 4_000];
export const REDELIVERY_WINDOW_MS = 30_000;

/** Waits `ms`, or less when `signal` aborts (the sandbox closing); resolves either way. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
