/** Clock and timer used by the gate (replaceable in tests). */
export interface GateClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

/**
 * The sliding window, with a margin for what happens between the gateway's
 * dial and the far end's count of it: the network's delay varies, and so does
 * the far end's (on one shared box, the simulated Dojo's event loop was seen
 * to stall 150 to 250 ms while venues dialled in). A dial held up on its way
 * lands in the same second as later ones; with dials paced evenly over 1.1 s,
 * a delay of up to 100 ms more than its neighbours' stays under the cap. The
 * margin costs 9% of the cap (200/s dials at about 182/s).
 */
const WINDOW_MS = 1_100;

const realClock: GateClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

/**
 * A caller's permission to dial once. Until `started()` or `cancel()` it
 * counts against the cap as a dial that could start at any moment.
 */
export interface DialSlot {
  /** The dial reached the far end now (the link calls it when its socket connects: counted-connect.ts). */
  started(): void;
  /** No dial after all (stopped, lease lost, no key): the slot is given back. */
  cancel(): void;
}

/**
 * Caps how many connection attempts a replica starts per second, so a
 * failover of hundreds of venues does not become a thundering herd.
 *
 * The cap is a sliding-window limiter over the dials actually started: no
 * more than `perSecond` dials in any window of WINDOW_MS, counting each at the
 * moment its caller calls `started()` (when its socket connects), not when the
 * gate let it go. Whatever happens in between (the fencing check is a Redis
 * round trip whose latency varies under load; the connect is handled by a
 * busy event loop) cannot bunch dials up: a released slot that has not started
 * yet counts as started now, so starts recorded + slots outstanding never
 * exceed the cap. Within the
 * cap, releases are spread about WINDOW_MS/perSecond apart (with at most
 * perSecond/50 at once after a late timer), so the far end sees a steady
 * trickle rather than one burst per second.
 */
export class DialGate {
  private readonly limit: number;
  private readonly gap: number;
  private readonly burst: number;
  /** Start times (monotonic ms) inside the window, oldest first, from index `head`. */
  private starts: number[] = [];
  private head = 0;
  /** Slots released whose caller has neither started nor cancelled. */
  private outstanding = 0;
  private credit = 1;
  private creditAt: number;
  private readonly waiters: Array<(slot: DialSlot) => void> = [];
  private timerArmed = false;

  constructor(
    perSecond: number,
    private readonly clock: GateClock = realClock,
  ) {
    this.limit = Math.max(1, Math.floor(perSecond));
    this.gap = WINDOW_MS / this.limit;
    this.burst = Math.max(1, Math.floor(this.limit / 50));
    this.creditAt = clock.now();
  }

  /** Resolves with a slot when this caller may dial (first come, first served). */
  take(): Promise<DialSlot> {
    return new Promise<DialSlot>((resolve) => {
      this.waiters.push(resolve);
      if (!this.timerArmed) this.pump();
    });
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  private inWindow(now: number): number {
    while (this.head < this.starts.length && this.starts[this.head]! + WINDOW_MS <= now) this.head++;
    if (this.head > 1024 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
    return this.starts.length - this.head;
  }

  private slot(): DialSlot {
    let open = true;
    const settle = (start: boolean) => {
      if (!open) return;
      open = false;
      this.outstanding--;
      if (start) this.starts.push(this.clock.now());
      if (!this.timerArmed) this.pump();
    };
    return { started: () => settle(true), cancel: () => settle(false) };
  }

  private pump(): void {
    while (this.waiters.length > 0) {
      const now = this.clock.now();
      this.credit = Math.min(this.burst, this.credit + (now - this.creditAt) / this.gap);
      this.creditAt = now;
      const used = this.inWindow(now) + this.outstanding;
      if (used >= this.limit) {
        // Full: wait for the oldest start to leave the window. With none recorded, every slot is still outstanding,
        // and the next started() or cancel() pumps again.
        if (this.head < this.starts.length) this.arm(this.starts[this.head]! + WINDOW_MS - now);
        return;
      }
      if (this.credit < 1) {
        this.arm((1 - this.credit) * this.gap);
        return;
      }
      this.credit -= 1;
      this.outstanding++;
      this.waiters.shift()!(this.slot());
    }
  }

  private arm(ms: number): void {
    this.timerArmed = true;
    this.clock.setTimeout(() => {
      this.timerArmed = false;
      this.pump();
    }, Math.max(1, Math.ceil(ms)));
  }
}
