import type { ChildProcess } from 'node:child_process';

/**
 * Sends each signal in turn until the child exits; never waits longer than the
 * sum of the bounds. `group`: signal the child's whole process group (a child
 * spawned `detached`, which leads its own group). Nothing is sent once the child
 * has exited, so a group id that the system has since reused is never signalled.
 */
export async function stopChild(child: ChildProcess, steps: Array<[NodeJS.Signals, number]>, opts: { group?: boolean } = {}): Promise<boolean> {
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  if (gone() || !child.pid) return true;
  const exit = new Promise<void>((res) => child.once('exit', () => res()));
  for (const [signal, ms] of steps) {
    if (gone()) return true;
    try {
      if (opts.group) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      /* already gone */
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exit, new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
    clearTimeout(timer);
    if (gone()) return true;
  }
  return gone();
}
