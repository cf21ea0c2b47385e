/** Clock and timer used by the gate (replaceable in tests). */
export interface GateClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

/**
 * The sliding window, with a margin: a caller observes its release after the
 * gate decides it (promise callbacks, and on a loaded machine the process being
 * descheduled between the two, which a 5 ms margin did not cover: a run under CI
 * load saw 101 starts in one second at a cap of 100). It is the caller's dial
 * that must stay under the cap; the margin costs at most 2.4% of the cap.
 */
const WINDOW_MS = 1_025;

const realClock: GateClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

/**
 * Caps how many connection attempts a replica starts per second, so a
 * failover of hundreds of venues does not become a thundering herd.
 *
 * The cap is a true sliding window: no more than `perSecond` starts in any
 * 1-second window, measured when each start is actually released (a ring of
 * the last `perSecond` start times). Within that cap the starts are paced by a
 * small token bucket refilled by elapsed time (about 1/perSecond apart, with a
 * burst of at most perSecond/20), so timers that come due together after an
 * event-loop stall cannot release a burst above the cap.
 */
export class DialGate {
  private readonly limit: number;
  private readonly gap: number;
  private readonly burst: number;
  /** Ring of the last `limit` start times (monotonic ms). */
  private readonly starts: number[] = [];
  private head = 0;
  private tokens = 1;
  private refilledAt: number;
  private readonly waiters: Array<() => void> = [];
  private timerArmed = false;

  constructor(
    perSecond: number,
    private readonly clock: GateClock = realClock,
  ) {
    this.limit = Math.max(1, Math.floor(perSecond));
    this.gap = 1000 / this.limit;
    this.burst = Math.max(1, Math.floor(this.limit / 20));
    this.refilledAt = clock.now();
  }

  /** Resolves when this caller may dial (first come, first served). */
  take(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      if (!this.timerArmed) this.pump();
    });
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  private pump(): void {
    while (this.waiters.length > 0) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) / this.gap);
      this.refilledAt = now;
      let wait = this.tokens >= 1 ? 0 : (1 - this.tokens) * this.gap;
      if (this.starts.length >= this.limit) {
        // The oldest of the last `limit` starts must have left the 1-second window.
        wait = Math.max(wait, this.starts[this.head]! + WINDOW_MS - now);
      }
      if (wait > 0) {
        this.timerArmed = true;
        this.clock.setTimeout(() => {
          this.timerArmed = false;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      this.tokens -= 1;
      if (this.starts.length < this.limit) this.starts.push(now);
      else {
        this.starts[this.head] = now;
        this.head = (this.head + 1) % this.limit;
      }
      this.waiters.shift()!();
    }
  }
}
