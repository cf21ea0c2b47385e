/**
 * Caps how many connection attempts a replica starts per second, so a
 * failover of hundreds of venues does not become a thundering herd.
 */
export class DialGate {
  private next = 0;

  constructor(private readonly perSecond: number) {}

  /** Resolves when this caller may dial; callers are spaced 1/perSecond apart. */
  async take(): Promise<void> {
    const gap = 1000 / Math.max(1, this.perSecond);
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + gap;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }
}
