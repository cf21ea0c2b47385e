import { describeAppStalls, watchAppStalls } from '../lib/app-stalls';
import { describePgBackground, pgBackgroundDelta, readPgBackground } from '../lib/pg-background';
import type { Platform } from '../lib/platform';
import { runMix } from './mix';
import type { MixRun } from './request-path';
import { ORDERS_PER_LOCATION, preparePaymentVenues, startVariant, toRun, WARM_UP, warmUp } from './request-path';

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
  /** Whether a step over the p99 limit was run once more before it ended the ramp. */
  confirmMisses: boolean;
  ceilings: CeilingResult[];
}

/**
 * A step's log suffix naming what may have held its slowest requests: Postgres' own work (a checkpoint completed, an
 * autovacuum run) and any app whose event loop stood still for 50 ms or more, or that ran a major GC.
 */
function stallNote(r: MixRun): string {
  const pg = r.pgBackground && describePgBackground(r.pgBackground);
  const apps = r.appStalls && describeAppStalls(r.appStalls, 50);
  return [pg ? ` [postgres: ${pg}]` : '', apps ? ` [apps: ${apps}]` : ''].join('');
}

/** A step is clean when p99 <= the limit, no errors, and the generator offered what it should (within 3%). */
function verdict(r: MixRun, p99LimitMs: number): { why: string; tail: boolean } | undefined {
  if (r.errors > 0) return { why: `${r.errors} errors at ${r.offered}/s`, tail: false };
  if (r.p99 > p99LimitMs) return { why: `p99 ${r.p99} ms > ${p99LimitMs} ms at ${r.offered}/s`, tail: true };
  if (r.achieved < r.offered * 0.97) return { why: `the load generator only offered ${r.achieved}/s of ${r.offered}/s`, tail: false };
  return undefined;
}

export async function throughput(
  p: Platform,
  o: {
    locations: number;
    rates: number[];
    stepMs: number;
    workers: number[];
    p99LimitMs: number;
    /** A step over the p99 limit is run once more, and stops the ramp only if it misses again. */
    confirmMisses: boolean;
    /** The mix at WARM_UP.rate for this long before the ramp, unmeasured (fresh processes cost more: WARM_UP). */
    warmupMs: number;
    log: (m: string) => void;
  },
): Promise<ThroughputResult> {
  const accountIds = await preparePaymentVenues(p, o.locations);
  const ceilings: CeilingResult[] = [];
  for (const [i, workers] of o.workers.entries()) {
    if (i > 0) await p.restoreSeed(); // each ramp starts from the same rows
    const { pids, apps } = await startVariant(p, 'queue', accountIds, workers);
    o.log(`throughput: gateway + ${workers} worker(s) up`);
    // Warmed up as the request path's variants are: a ramp of 5 s steps on fresh processes measured V8 still compiling
    // (two workers share the warm-up's requests, so each was colder than a single one at the same step).
    if (o.warmupMs > 0) {
      const mix = (rate: number, ms: number) => runMix(p, accountIds, rate, ms, { ordersPerLocation: ORDERS_PER_LOCATION, timeoutMs: 5_000 });
      await warmUp(mix, WARM_UP.rate, o.warmupMs, o.log, `throughput: ${workers} worker(s)`);
    }
    p.markProfiles();
    const steps: MixRun[] = [];
    let highest = 0;
    let stoppedBy = `reached the top step (${o.rates[o.rates.length - 1]}/s)`;
    const step = async (rate: number, repeat: boolean) => {
      const bg0 = await readPgBackground(p.prisma);
      const stalls = await watchAppStalls(apps);
      const meter = p.meter(pids);
      const r = await runMix(p, accountIds, rate, o.stepMs, { ordersPerLocation: ORDERS_PER_LOCATION, timeoutMs: 5_000 });
      const cpu = meter.end();
      const appStalls = await stalls.end();
      const pgBackground = pgBackgroundDelta(bg0, await readPgBackground(p.prisma));
      const run: MixRun = { ...toRun(`queue, ${workers} worker(s)`, rate, r, cpu), pgBackground, appStalls, ...(repeat ? { repeat: true } : {}) };
      steps.push(run);
      return run;
    };
    for (const rate of o.rates) {
      const run = await step(rate, false);
      let bad = verdict(run, o.p99LimitMs);
      // A tail miss is confirmed by running the step once more: one 5 s window's p99 is its 1% slowest requests, and
      // a pause of the host (seen in this VM's own wake-up costs, which drift by half within an hour) can put them
      // over the limit at a rate the platform sustains. Errors and a short offer stop the ramp at once.
      if (bad?.tail && o.confirmMisses) {
        o.log(`throughput: ${workers} worker(s) @ ${rate}/s: p50 ${run.p50} p99 ${run.p99} ms (${bad.why})${stallNote(run)}: running the step again`);
        await new Promise((res) => setTimeout(res, 1_000));
        const again = await step(rate, true);
        bad = verdict(again, o.p99LimitMs);
        o.log(`throughput: ${workers} worker(s) @ ${rate}/s, again: p50 ${again.p50} p99 ${again.p99} ms, errors ${again.errors}${stallNote(again)}${bad ? ` -> stop (missed twice; ${bad.why})` : ''}`);
      } else {
        o.log(`throughput: ${workers} worker(s) @ ${rate}/s: p50 ${run.p50} p99 ${run.p99} ms, errors ${run.errors}${stallNote(run)}${bad ? ` -> stop (${bad.why})` : ''}`);
      }
      if (bad) {
        stoppedBy = bad.why;
        break;
      }
      highest = rate;
      await new Promise((res) => setTimeout(res, 500));
    }
    ceilings.push({ workers, highestCleanRate: highest, stoppedBy, steps });
    await p.stopApps();
  }
  return { scenario: 'throughput', locations: o.locations, stepMs: o.stepMs, p99LimitMs: o.p99LimitMs, confirmMisses: o.confirmMisses, ceilings };
}
