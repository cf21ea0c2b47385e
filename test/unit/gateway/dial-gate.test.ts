import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GateClock } from '@app/gateway';
import { DialGate } from '@app/gateway';

/** Most timestamps inside any half-open window of `windowMs` (the bench's connect-rate measure). */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** A clock whose timers fire late when the "event loop" stalls: every timer due inside a stall fires at its end, together. */
class StallingClock implements GateClock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void }> = [];
  constructor(private readonly stalls: Array<{ from: number; ms: number }>) {}
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.push({ at: this.t + Math.max(1, ms), fn });
    return undefined;
  }
  /** Runs timers until none are left; returns false if it gave up. */
  async run(limitMs: number): Promise<boolean> {
    await new Promise((r) => setImmediate(r)); // callers released at once record the current time first
    while (this.timers.length > 0) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift()!;
      let at = Math.max(this.t, next.at);
      for (const s of this.stalls) if (at > s.from && at < s.from + s.ms) at = s.from + s.ms;
      this.t = at;
      if (this.t > limitMs) return false;
      next.fn();
      await new Promise((r) => setImmediate(r)); // let the released callers run
    }
    return true;
  }
}

describe('dial gate', () => {
  it('never starts more than RATE dials in any sliding 1-second window, even when timers fire together after a stall', async () => {
    const rate = 200;
    const clock = new StallingClock([
      { from: 300, ms: 700 },
      { from: 1_500, ms: 450 },
      { from: 2_600, ms: 990 },
    ]);
    const gate = new DialGate(rate, clock);
    const starts: number[] = [];
    const n = 1_200;
    const all = Array.from({ length: n }, () => gate.take().then((slot) => { slot.started(); starts.push(clock.now()); }));
    assert.ok(await clock.run(60_000), 'the gate kept releasing callers');
    await Promise.all(all);
    assert.equal(starts.length, n);
    const busiest = maxInWindow(starts, 1000);
    assert.ok(busiest <= rate, `busiest 1 s window held ${busiest} starts (cap ${rate})`);
    // It still uses its budget: 1,200 starts at 200/s need at least 5 s and, with ~2.1 s of stalls, not much more.
    const span = Math.max(...starts) - Math.min(...starts);
    assert.ok(span >= 5_000 && span < 9_500, `spread over ${span} ms`);
  });

  it('paces starts about 1/RATE apart with only a small burst after idle time', async () => {
    const clock = new StallingClock([]);
    const gate = new DialGate(100, clock);
    const starts: number[] = [];
    const all = Array.from({ length: 50 }, () => gate.take().then((slot) => { slot.started(); starts.push(clock.now()); }));
    assert.ok(await clock.run(10_000));
    await Promise.all(all);
    // 50 starts at 100/s: the first at once, the rest about 11 ms apart (the window's margin).
    assert.equal(starts[0], 0);
    assert.ok(starts[49]! >= 530 && starts[49]! <= 560, `last start at ${starts[49]} ms`);
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! >= 10, `gap ${i}: ${starts[i]! - starts[i - 1]!} ms`);
    // After a quiet second, at most RATE/50 start at once.
    clock.t += 1_000;
    const later: number[] = [];
    const more = Array.from({ length: 20 }, () => gate.take().then((slot) => { slot.started(); later.push(clock.now()); }));
    assert.ok(await clock.run(20_000));
    await Promise.all(more);
    assert.equal(later.filter((t) => t === later[0]).length, 2);
  });

  it('holds the cap with real timers across a real event-loop stall', async () => {
    const rate = 100;
    const gate = new DialGate(rate);
    const starts: number[] = [];
    const t0 = performance.now();
    const all = Array.from({ length: 230 }, () => gate.take().then((slot) => { slot.started(); starts.push(performance.now()); }));
    // Block the event loop (without burning CPU) while about 60 callers come due.
    await new Promise((r) => setTimeout(r, 400));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
    await Promise.all(all);
    const busiest = maxInWindow(starts, 1000);
    assert.ok(busiest <= rate, `busiest 1 s window held ${busiest} starts (cap ${rate})`);
    assert.ok(performance.now() - t0 < 4_500, 'all callers were released in reasonable time');
  });

  it('counts a dial when it starts, not when the gate let it go: a slow step in between cannot bunch dials up', async () => {
    // After its release each caller makes a round trip before dialling (the fencing check). Its latency swings
    // between 120 ms (Redis replies held up by a busy second) and 1 ms (the next second): counted at release,
    // the last second's slow callers and the next second's fast ones would dial within the same second.
    const rate = 100;
    const clock = new StallingClock([]);
    const gate = new DialGate(rate, clock);
    const starts: number[] = [];
    let k = 0;
    const all = Array.from({ length: 500 }, () =>
      gate.take().then(
        (slot) =>
          new Promise<void>((done) => {
            const i = k++;
            clock.setTimeout(() => {
              slot.started();
              starts.push(clock.now());
              done();
            }, Math.floor(i / rate) % 2 === 0 ? 120 : 1);
          }),
      ),
    );
    assert.ok(await clock.run(60_000));
    await Promise.all(all);
    const busiest = maxInWindow(starts, 1000);
    assert.ok(busiest <= rate, `busiest 1 s window held ${busiest} dials (cap ${rate})`);
    const span = Math.max(...starts) - Math.min(...starts);
    assert.ok(span < 7_000, `500 dials at 100/s spread over ${span} ms`);
  });

  it('gives a cancelled slot back, and waits for outstanding slots before releasing past the cap', async () => {
    const clock = new StallingClock([]);
    const gate = new DialGate(10, clock);
    const taken = Array.from({ length: 10 }, () => gate.take());
    // 10 released (paced), none started yet: the 11th waits until one is settled.
    let eleventh = false;
    const next = gate.take().then((s) => {
      eleventh = true;
      return s;
    });
    assert.ok(await clock.run(10_000));
    const slots = await Promise.all(taken);
    assert.equal(eleventh, false, 'an 11th slot while 10 are outstanding');
    slots[0]!.cancel();
    slots[0]!.cancel(); // twice is harmless
    assert.ok(await clock.run(10_000));
    assert.equal(eleventh, true, 'the cancelled slot was given back');
    for (const s of slots.slice(1)) s.started();
    (await next).started();
    // 10 started within the window: the next waits for the oldest to leave it.
    const t = clock.now();
    const later = gate.take().then(() => clock.now());
    assert.ok(await clock.run(10_000));
    assert.ok((await later) - t >= 1_000, 'released before the window had room');
  });
});
