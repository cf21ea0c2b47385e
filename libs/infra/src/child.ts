import type { ChildProcess } from 'node:child_process';

/** Sends each signal to the child's process group in turn until it exits; never waits longer than the sum of the bounds. */
export async function stopChild(child: ChildProcess, steps: Array<[NodeJS.Signals, number]>): Promise<boolean> {
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  if (gone() || !child.pid) return true;
  const exit = new Promise<void>((res) => child.once('exit', () => res()));
  for (const [signal, ms] of steps) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      try {
        child.kill(signal);
      } catch {
        /* already gone */
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exit, new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
    clearTimeout(timer);
    if (gone()) return true;
  }
  return gone();
}
