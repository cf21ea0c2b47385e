/** Latency samples (send to reply, ms) and nearest-rank percentiles. */

export interface LatencyStats {
  count: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: number[], errors = 0): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  const r = (n: number) => Math.round(n * 1000) / 1000;
  return {
    count: sorted.length,
    errors,
    p50: r(percentile(sorted, 50)),
    p95: r(percentile(sorted, 95)),
    p99: r(percentile(sorted, 99)),
    max: r(sorted.at(-1) ?? 0),
    mean: r(sorted.length ? sum / sorted.length : 0),
  };
}

/** Keeps samples per method (bounded) and error counts. */
export class LatencyRecorder {
  private samples = new Map<string, number[]>();
  private errors = new Map<string, number>();
  constructor(private readonly maxSamplesPerMethod = 1_000_000) {}

  record(method: string, ms: number, ok: boolean): void {
    let list = this.samples.get(method);
    if (!list) this.samples.set(method, (list = []));
    if (list.length < this.maxSamplesPerMethod) list.push(ms);
    if (!ok) this.errors.set(method, (this.errors.get(method) ?? 0) + 1);
  }

  recordError(method: string): void {
    this.errors.set(method, (this.errors.get(method) ?? 0) + 1);
  }

  reset(): void {
    this.samples.clear();
    this.errors.clear();
  }

  stats(): { all: LatencyStats; byMethod: Record<string, LatencyStats> } {
    const byMethod: Record<string, LatencyStats> = {};
    const all: number[] = [];
    let errs = 0;
    const methods = new Set([...this.samples.keys(), ...this.errors.keys()]);
    for (const m of methods) {
      const s = this.samples.get(m) ?? [];
      const e = this.errors.get(m) ?? 0;
      byMethod[m] = summarize(s, e);
      for (const v of s) all.push(v);
      errs += e;
    }
    return { all: summarize(all, errs), byMethod };
  }
}

/**
 * The open loop of a load run: calls `send` at `ratePerSec` from `t0` until
 * `durationMs` has passed (due sends caught up on a 5 ms tick, never more than
 * rate × duration in all), whatever is still in flight. Resolves with the
 * sending window in ms.
 */
export async function sendAtRate(o: { ratePerSec: number; durationMs: number }, t0: number, send: () => void): Promise<number> {
  const total = Math.floor((o.durationMs * o.ratePerSec) / 1000);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((Math.min(elapsed, o.durationMs) * o.ratePerSec) / 1000), total);
      for (; sent < due; sent++) send();
      if (elapsed >= o.durationMs) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 5);
    tick();
  });
  return performance.now() - t0;
}
