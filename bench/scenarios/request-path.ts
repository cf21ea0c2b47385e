import type { LoadReport } from '@app/dojo-sandbox';
import type { AppStall } from '../lib/app-stalls';
import type { PgBackgroundDelta } from '../lib/pg-background';
import type { Platform } from '../lib/platform';
import type { AppProcess } from '../lib/procs';
import { appLabel, platformCpuMs } from '../lib/procs';
import { fixtures } from '@app/testing';
import { benchVenues } from '../lib/seed';
import { tableSessionId } from '@app/domain';
import { TABLES_PATH } from '@app/dojo-sandbox';
import { runMix, runTablesMix } from './mix';

export const ORDERS_PER_LOCATION = 4;

export interface MixRun {
  variant: string;
  /** The throughput ramp: a step run again because its first run missed the p99 limit. */
  repeat?: boolean;
  /** Request path: the run on the variant's fresh processes, before the warm-up (shown, never judged). */
  fresh?: boolean;
  offered: number;
  achieved: number;
  sent: number;
  ok: number;
  errors: number;
  timeouts: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** CPU of each process during the run, in cores (1 = one core busy). */
  cpu: Record<string, number>;
  /** The gateway's read cache during the run: reads of orders answered from it and from Postgres (when it has one). */
  readCache?: { hits: number; misses: number };
  /** The throughput ramp: Postgres' own work during the step (checkpoints completed, autovacuum runs) and the connections opened. */
  pgBackground?: PgBackgroundDelta;
  /** The throughput ramp: each app's longest event-loop delay and garbage collection during the step. */
  appStalls?: Record<string, AppStall>;
  byMethod: LoadReport['byMethod'];
  errorSamples: string[];
}

export function toRun(variant: string, offered: number, r: LoadReport & { loadGenCpu: number }, cpu: Record<string, number>): MixRun {
  return {
    variant,
    offered,
    achieved: r.achievedRatePerSec,
    sent: r.sent,
    ok: r.ok,
    errors: r.errors,
    timeouts: r.timeouts,
    p50: r.latency.p50,
    p95: r.latency.p95,
    p99: r.latency.p99,
    max: r.latency.max,
    mean: r.latency.mean,
    cpu: { ...cpu, 'sandbox+loadgen (bench process)': r.loadGenCpu },
    byMethod: r.byMethod,
    errorSamples: r.errorSamples,
  };
}

/** Seeds `locations` venues with orders (kept: Platform.restoreSeed), starts the sandbox with matching accounts. */
export async function preparePaymentVenues(p: Platform, locations: number): Promise<string[]> {
  await p.init();
  const seeded = await benchVenues(fixtures(p.prisma, p.box), { count: locations, prefix: 'bench', ordersPerLocation: ORDERS_PER_LOCATION });
  await p.keepSeed();
  await p.startSandbox(locations, 'bench');
  return seeded.map((l) => l.dojoAccountId);
}

/**
 * The platform's shapes: `queue` as deployed (workers + gateway at their defaults: changes through the queue, reads
 * answered by the gateway, GATEWAY_READS=local), `queue, reads queued` (GATEWAY_READS=queue: every request through the
 * queue) and the `in-process` baseline (one gateway process answers everything).
 */
export type Variant = 'queue' | 'queue, reads queued' | 'in-process';

/** Starts a variant and waits until every venue is connected. */
export async function startVariant(p: Platform, variant: Variant, accountIds: string[], workers = 1): Promise<{ pids: Record<string, number>; gateway: AppProcess; apps: AppProcess[] }> {
  const procs: AppProcess[] = [];
  if (variant !== 'in-process') {
    for (let i = 0; i < workers; i++) procs.push(await p.startApp('worker', `worker${i + 1}`));
    procs.push(await p.startApp('gateway', 'gateway', variant === 'queue, reads queued' ? { GATEWAY_READS: 'queue' } : {}));
  } else {
    procs.push(await p.startInProcessGateway());
  }
  const ok = await p.waitConnected(accountIds, 60_000);
  if (!ok) throw new Error(`${variant}: only ${p.sandbox!.hub.totalConnections()} of ${accountIds.length} venues connected within 60 s`);
  return { pids: Object.fromEntries(procs.map((a) => [appLabel(a), a.pid])), gateway: procs.at(-1)!, apps: procs };
}

export interface RequestPathResult {
  scenario: 'request-path';
  locations: number;
  durationMs: number;
  runs: MixRun[];
  ratios: { offered: number; p50: number; p95: number; p99: number; max: number; p50DeltaMs: number }[];
}

/**
 * Fresh processes cost more per request for their first tens of seconds, and a deployed gateway or worker runs for
 * days: the figures of record are taken after a warm-up. `bench/diagnostics/warmup-curve.js` shows the curve: the
 * queue variant at 200/s cost 2.5 ms per request in its first 3 s, 1.8 after 10 s and 1.3–1.4 after 40 s (8,000
 * requests), and 1.2–1.35 ms from the first window on after 10 s of the mix at 1,000/s. In a worker's first 15 s at
 * 1,000/s, perf put a quarter of its CPU in V8's compiler threads (TurboFan) and another quarter in the interpreter's
 * inline caches; Postgres' new backends also start with empty caches.
 */
export const WARM_UP = { rate: 1_000, ms: 10_000 };

type LoadRun = (rate: number, durationMs: number) => Promise<LoadReport & { loadGenCpu: number }>;

/** The warm-up: `ms` of `run` at `rate`, unmeasured and logged, then a second for what it left in flight to settle. */
export async function warmUp(run: LoadRun, rate: number, ms: number, log: (m: string) => void, label: string): Promise<void> {
  const w = await run(rate, ms);
  const kinds = w.errors === 0 ? '' : `: ${w.timeouts} timed out, ${w.rpcErrors} error replies, ${w.notRouted + w.notConnected} not routed or connected${w.errorSamples.length ? `; first: ${w.errorSamples.slice(0, 3).join(' | ')}` : ''}`;
  log(`${label}: warmed up with ${w.sent} requests at ${rate}/s (${w.errors} errors${kinds}), unmeasured`);
  await new Promise((res) => setTimeout(res, 1_000));
}

/**
 * One variant's runs on its fresh processes: the lowest rate at once, measured and kept as `fresh` (what a process
 * costs in its first seconds: shown, never judged); then the warm-up, unmeasured (`warmupMs` of the same load at
 * WARM_UP.rate, or the highest rate when that is lower); then every rate, measured: the figures of record.
 */
async function measureVariant(
  p: Platform,
  started: { pids: Record<string, number>; gateway: AppProcess },
  variant: string,
  o: { rates: number[]; durationMs: number; warmupMs: number; log: (m: string) => void },
  run: LoadRun,
): Promise<MixRun[]> {
  const runs: MixRun[] = [];
  const measure = async (rate: number, fresh: boolean) => {
    const cache0 = await p.readCacheCounts(started.gateway);
    const meter = p.meter(started.pids);
    const r = await run(rate, o.durationMs);
    const cpu = meter.end();
    const cache1 = cache0 && (await p.readCacheCounts(started.gateway));
    const readCache = cache0 && cache1 ? { hits: cache1.hits - cache0.hits, misses: cache1.misses - cache0.misses } : undefined;
    const out: MixRun = { ...toRun(variant, rate, r, cpu), ...(readCache ? { readCache } : {}), ...(fresh ? { fresh: true } : {}) };
    runs.push(out);
    o.log(
      `request-path: ${variant}${fresh ? ' (fresh processes)' : ''} @ ${rate}/s: p50 ${out.p50} p99 ${out.p99} max ${out.max} ms, errors ${out.errors}, CPU ${platformCpuMs(out.cpu, out.achieved).toFixed(2)} ms/request`,
    );
  };
  await measure(Math.min(...o.rates), true);
  if (o.warmupMs > 0) await warmUp(run, Math.min(WARM_UP.rate, Math.max(...o.rates)), o.warmupMs, o.log, `request-path: ${variant}`);
  p.markProfiles();
  for (const rate of o.rates) await measure(rate, false);
  return runs;
}

/**
 * The same venues and the same card-machine work over Dojo's legacy Tables API (the queue variant): the venues are
 * switched to protocol dojo-tables (what PUT /v1/locations/{id}/protocol stores), dialling the sandbox's
 * /ws/v1/tables/epos with their sandbox account id as the account name, and switched back afterwards.
 */
async function tablesVariant(
  p: Platform,
  accountIds: string[],
  o: { rates: number[]; durationMs: number; warmupMs: number; log: (m: string) => void },
): Promise<MixRun[]> {
  const tablesUrl = `${p.sandbox!.wsUrl.replace(/\/epos$/, '')}${TABLES_PATH}`;
  await p.prisma.$executeRawUnsafe(
    `UPDATE locations SET protocol = 'dojo-tables', ws_url = $1, config_version = config_version + 1,
       protocol_settings = jsonb_build_object('accountName', dojo_account_id, 'environment', 'staging', 'enforceWaiterId', false)
     WHERE dojo_account_id = ANY($2::text[])`,
    tablesUrl,
    accountIds,
  );
  const rows = await p.prisma.location.findMany({ where: { dojoAccountId: { in: accountIds } }, select: { id: true, dojoAccountId: true } });
  const locationOf = new Map(rows.map((r) => [r.dojoAccountId, r.id]));
  const sessionOf = (accountId: string, orderId: string) => tableSessionId(locationOf.get(accountId)!, orderId);
  try {
    const started = await startVariant(p, 'queue', accountIds);
    o.log(`request-path: queue variant over the Tables API up, ${accountIds.length} venues connected`);
    const runs = await measureVariant(p, started, 'queue, Tables API', o, (rate, ms) =>
      runTablesMix(p, accountIds, rate, ms, { ordersPerLocation: ORDERS_PER_LOCATION, sessionOf }),
    );
    await p.stopApps();
    return runs;
  } finally {
    await p.prisma.$executeRawUnsafe(
      `UPDATE locations SET protocol = 'epos-data', ws_url = NULL, protocol_settings = '{}', config_version = config_version + 1 WHERE dojo_account_id = ANY($1::text[])`,
      accountIds,
    );
  }
}

/** The variants by their --variants names: the three shapes of the payment mix, and the Tables API over the queue. */
export const REQUEST_PATH_VARIANTS = { queue: 'queue', 'reads-queued': 'queue, reads queued', 'in-process': 'in-process', tables: 'queue, Tables API' } as const;
export type VariantKey = keyof typeof REQUEST_PATH_VARIANTS;

export async function requestPath(
  p: Platform,
  o: {
    locations: number;
    rates: number[];
    durationMs: number;
    warmupMs: number;
    maxInFlight?: number;
    /** Which variants to run (all when absent). */
    variants?: VariantKey[];
    /** The variants are run this many times, in turn (1 when absent): compare them on a noisy machine. */
    rounds?: number;
    log: (m: string) => void;
  },
): Promise<RequestPathResult> {
  const accountIds = await preparePaymentVenues(p, o.locations);
  o.log(`request-path: ${o.locations} venues seeded`);
  const runs: MixRun[] = [];
  const wanted = (k: VariantKey) => !o.variants || o.variants.includes(k);
  const mixVariants = (['queue', 'reads-queued', 'in-process'] as const).filter(wanted).map((k) => REQUEST_PATH_VARIANTS[k]);
  // Every variant but the first starts from the seeded rows again (Platform.keepSeed).
  let started = false;
  const fromSeed = async () => {
    if (started) {
      await p.restoreSeed();
      o.log('request-path: database back to the seeded rows');
    }
    started = true;
  };
  for (let round = 1; round <= (o.rounds ?? 1); round++) {
    for (const variant of mixVariants) {
      await fromSeed();
      const started = await startVariant(p, variant, accountIds);
      o.log(`request-path: ${variant} variant up, ${accountIds.length} venues connected${(o.rounds ?? 1) > 1 ? ` (round ${round})` : ''}`);
      runs.push(
        ...(await measureVariant(p, started, variant, o, (rate, ms) =>
          runMix(p, accountIds, rate, ms, { ordersPerLocation: ORDERS_PER_LOCATION, maxInFlight: o.maxInFlight }),
        )),
      );
      await p.stopApps();
    }
    if (wanted('tables')) {
      await fromSeed();
      runs.push(...(await tablesVariant(p, accountIds, o)));
    }
  }
  // Over every round: the mean p50 (etc.) of the queue runs over that of the in-process runs at each rate (warm runs).
  const ratios = o.rates.flatMap((rate) => {
    const q = runs.filter((r) => r.variant === 'queue' && r.offered === rate && !r.fresh);
    const i = runs.filter((r) => r.variant === 'in-process' && r.offered === rate && !r.fresh);
    if (q.length === 0 || i.length === 0) return [];
    const mean = (rs: MixRun[], k: 'p50' | 'p95' | 'p99' | 'max') => rs.reduce((a, r) => a + r[k], 0) / rs.length;
    const ratio = (k: 'p50' | 'p95' | 'p99' | 'max') => Math.round((mean(q, k) / Math.max(mean(i, k), 0.001)) * 100) / 100;
    return [{ offered: rate, p50: ratio('p50'), p95: ratio('p95'), p99: ratio('p99'), max: ratio('max'), p50DeltaMs: Math.round((mean(q, 'p50') - mean(i, 'p50')) * 1000) / 1000 }];
  });
  return { scenario: 'request-path', locations: o.locations, durationMs: o.durationMs, runs, ratios };
}
