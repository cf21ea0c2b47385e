import type { LoadReport } from '@app/dojo-sandbox';
import type { Platform } from '../lib/platform';
import type { AppProcess } from '../lib/procs';
import { platformCpuMs } from '../lib/procs';
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

/** Seeds `locations` venues with orders, starts the sandbox with matching accounts. */
export async function preparePaymentVenues(p: Platform, locations: number): Promise<string[]> {
  await p.init();
  const seeded = await benchVenues(fixtures(p.prisma, p.box), { count: locations, prefix: 'bench', ordersPerLocation: ORDERS_PER_LOCATION });
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
export async function startVariant(p: Platform, variant: Variant, accountIds: string[], workers = 1): Promise<Record<string, number>> {
  const procs: AppProcess[] = [];
  if (variant !== 'in-process') {
    for (let i = 0; i < workers; i++) procs.push(await p.startApp('worker', `worker${i + 1}`));
    procs.push(await p.startApp('gateway', 'gateway', variant === 'queue, reads queued' ? { GATEWAY_READS: 'queue' } : {}));
  } else {
    procs.push(p.startInProcessGateway());
  }
  const ok = await p.waitConnected(accountIds, 60_000);
  if (!ok) throw new Error(`${variant}: only ${p.sandbox!.hub.totalConnections()} of ${accountIds.length} venues connected within 60 s`);
  return Object.fromEntries(procs.map((a) => [a.name.replace(/^[^-]+-/, ''), a.pid]));
}

export interface RequestPathResult {
  scenario: 'request-path';
  locations: number;
  durationMs: number;
  runs: MixRun[];
  ratios: { offered: number; p50: number; p95: number; p99: number; max: number; p50DeltaMs: number }[];
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
  const runs: MixRun[] = [];
  try {
    const pids = await startVariant(p, 'queue', accountIds);
    o.log(`request-path: queue variant over the Tables API up, ${accountIds.length} venues connected`);
    await runTablesMix(p, accountIds, Math.min(...o.rates), o.warmupMs, { ordersPerLocation: ORDERS_PER_LOCATION, sessionOf });
    for (const rate of o.rates) {
      const meter = p.meter(pids);
      const r = await runTablesMix(p, accountIds, rate, o.durationMs, { ordersPerLocation: ORDERS_PER_LOCATION, sessionOf });
      const run = toRun('queue, Tables API', rate, r, meter.end());
      runs.push(run);
      o.log(`request-path: queue (Tables API) @ ${rate}/s: p50 ${run.p50} p99 ${run.p99} max ${run.max} ms, errors ${run.errors}`);
    }
    await p.stopApps();
  } finally {
    await p.prisma.$executeRawUnsafe(
      `UPDATE locations SET protocol = 'epos-data', ws_url = NULL, protocol_settings = '{}', config_version = config_version + 1 WHERE dojo_account_id = ANY($1::text[])`,
      accountIds,
    );
  }
  return runs;
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
  for (let round = 1; round <= (o.rounds ?? 1); round++) {
    for (const variant of mixVariants) {
      const pids = await startVariant(p, variant, accountIds);
      o.log(`request-path: ${variant} variant up, ${accountIds.length} venues connected${(o.rounds ?? 1) > 1 ? ` (round ${round})` : ''}`);
      await runMix(p, accountIds, Math.min(...o.rates), o.warmupMs, { ordersPerLocation: ORDERS_PER_LOCATION, maxInFlight: o.maxInFlight });
      for (const rate of o.rates) {
        const meter = p.meter(pids);
        const r = await runMix(p, accountIds, rate, o.durationMs, { ordersPerLocation: ORDERS_PER_LOCATION, maxInFlight: o.maxInFlight });
        const run = toRun(variant, rate, r, meter.end());
        runs.push(run);
        o.log(`request-path: ${variant} @ ${rate}/s: p50 ${run.p50} p99 ${run.p99} max ${run.max} ms, errors ${run.errors}, CPU ${platformCpuMs(run.cpu, run.achieved).toFixed(2)} ms/request`);
      }
      await p.stopApps();
    }
    if (wanted('tables')) runs.push(...(await tablesVariant(p, accountIds, o)));
  }
  // Over every round: the mean p50 (etc.) of the queue runs over that of the in-process runs at each rate.
  const ratios = o.rates.flatMap((rate) => {
    const q = runs.filter((r) => r.variant === 'queue' && r.offered === rate);
    const i = runs.filter((r) => r.variant === 'in-process' && r.offered === rate);
    if (q.length === 0 || i.length === 0) return [];
    const mean = (rs: MixRun[], k: 'p50' | 'p95' | 'p99' | 'max') => rs.reduce((a, r) => a + r[k], 0) / rs.length;
    const ratio = (k: 'p50' | 'p95' | 'p99' | 'max') => Math.round((mean(q, k) / Math.max(mean(i, k), 0.001)) * 100) / 100;
    return [{ offered: rate, p50: ratio('p50'), p95: ratio('p95'), p99: ratio('p99'), max: ratio('max'), p50DeltaMs: Math.round((mean(q, 'p50') - mean(i, 'p50')) * 1000) / 1000 }];
  });
  return { scenario: 'request-path', locations: o.locations, durationMs: o.durationMs, runs, ratios };
}
