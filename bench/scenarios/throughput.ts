import type { Platform } from '../lib/platform';
import { runMix } from './mix';
import type { MixRun } from './request-path';
import { ORDERS_PER_LOCATION, preparePaymentVenues, startVariant, toRun } from './request-path';

export interface CeilingResult {
  workers: number;
  highestCleanRate: number;
  /** Why the ramp stopped at the next step. */
  stoppedBy: string;
  steps: MixRun[];
}

export interface ThroughputResult {
  scenario: 'throughput';
  locations: number;
  stepMs: number;
  p99LimitMs: number;
  ceilings: CeilingResult[];
}

/** A step is clean when p99 <= the limit, no errors, and the generator offered what it should (within 3%). */
function verdict(r: MixRun, p99LimitMs: number): string | undefined {
  if (r.errors > 0) return `${r.errors} errors at ${r.offered}/s`;
  if (r.p99 > p99LimitMs) return `p99 ${r.p99} ms > ${p99LimitMs} ms at ${r.offered}/s`;
  if (r.achieved < r.offered * 0.97) return `the load generator only offered ${r.achieved}/s of ${r.offered}/s`;
  return undefined;
}

export async function throughput(
  p: Platform,
  o: { locations: number; rates: number[]; stepMs: number; workers: number[]; p99LimitMs: number; log: (m: string) => void },
): Promise<ThroughputResult> {
  const accountIds = await preparePaymentVenues(p, o.locations);
  const ceilings: CeilingResult[] = [];
  for (const workers of o.workers) {
    const pids = await startVariant(p, 'queue', accountIds, workers);
    o.log(`throughput: gateway + ${workers} worker(s) up`);
    await runMix(p, accountIds, o.rates[0]! / 2, 2_000, { ordersPerLocation: ORDERS_PER_LOCATION });
    const steps: MixRun[] = [];
    let highest = 0;
    let stoppedBy = `reached the top step (${o.rates[o.rates.length - 1]}/s)`;
    for (const rate of o.rates) {
      const meter = p.meter(pids);
      const r = await runMix(p, accountIds, rate, o.stepMs, { ordersPerLocation: ORDERS_PER_LOCATION, timeoutMs: 5_000 });
      const run = toRun(`queue, ${workers} worker(s)`, rate, r, meter.end());
      steps.push(run);
      const bad = verdict(run, o.p99LimitMs);
      o.log(`throughput: ${workers} worker(s) @ ${rate}/s: p50 ${run.p50} p99 ${run.p99} ms, errors ${run.errors}${bad ? ` -> stop (${bad})` : ''}`);
      if (bad) {
        stoppedBy = bad;
        break;
      }
      highest = rate;
      await new Promise((res) => setTimeout(res, 500));
    }
    ceilings.push({ workers, highestCleanRate: highest, stoppedBy, steps });
    await p.stopApps();
  }
  return { scenario: 'throughput', locations: o.locations, stepMs: o.stepMs, p99LimitMs: o.p99LimitMs, ceilings };
}
