import type { EposMethod, TablesAnsweredMethod } from '@app/contracts';
import { isFailure, isTablesError, isTablesMethod } from '@app/contracts';

/** A method the load generator sends: EPOS Data's, or the Tables API's (to accounts on /ws/v1/tables/epos). */
export type LoadMethod = EposMethod | TablesAnsweredMethod;
import type { EposHub } from './epos-hub';
import { CallTimeoutError, NotConnectedError, NotRoutedError } from './epos-hub';
import type { LatencyStats } from './latency';
import { sendAtRate, summarize } from './latency';

export interface LoadOptions {
  /** Accounts to spread requests over (round robin). */
  accountIds: string[];
  /** Target requests per second across all accounts (open loop: sends do not wait for replies). */
  ratePerSec: number;
  /** How long to send for. */
  durationMs: number;
  /** Method mix as relative weights, e.g. { SearchOrdersV1: 3, GetOrderByIdV1: 1 }. Ignored when `script` is given. */
  mix?: Partial<Record<LoadMethod, number>>;
  /**
   * A per-account script instead of a random mix: the k-th request to an account
   * (k = 0, 1, ...) is `script(accountId, k)`, e.g. search, get, lock, pay, unlock
   * on the account's own orders, so locks are released and do not conflict.
   */
  script?: (accountId: string, k: number) => { method: LoadMethod; params: Record<string, unknown> };
  /** Params per request (EPOS Data: headers are added; Tables API: a card machine's requestorInfo). Defaults to small valid params per method. */
  params?: (method: LoadMethod, accountId: string, n: number) => Record<string, unknown>;
  timeoutMs?: number;
  /** Cap on requests awaiting a reply; sends beyond it are counted as `skipped`. */
  maxInFlight?: number;
}

export interface LoadReport {
  sent: number;
  ok: number;
  /** JSON-RPC error replies, timeouts, closed connections, unrouted or unconnected sends. */
  errors: number;
  rpcErrors: number;
  timeouts: number;
  notRouted: number;
  notConnected: number;
  skipped: number;
  durationMs: number;
  achievedRatePerSec: number;
  /** Send-to-reply latency of every reply (ms). */
  latency: LatencyStats;
  byMethod: Record<string, LatencyStats>;
  /** The first few errors (method: message), to tell what went wrong. */
  errorSamples: string[];
}

const DEFAULT_PARAMS: Partial<Record<LoadMethod, Record<string, unknown>>> = {
  ListSessions: { isFinished: false, isPayable: true },
  ListTables: {},
  ListBillItems: {},
  SearchOrdersV1: { payableOnly: true },
  GetOrderByIdV1: { orderId: 'ord_1' },
  GetOrderBillByIdV1: { orderId: 'ord_1' },
  SearchTablesV1: {},
  ListAreasV1: {},
  SearchPartiesV1: {},
  SearchReservationsV1: {},
};

/**
 * Sends a method mix at a target rate across many locations and records the
 * latency of each request from send to reply (p50/p95/p99/max, errors).
 */
export async function runLoad(hub: EposHub, o: LoadOptions): Promise<LoadReport> {
  if (o.accountIds.length === 0) throw new Error('runLoad needs at least one account');
  const entries = Object.entries(o.mix ?? {}).filter(([, w]) => (w ?? 0) > 0) as [LoadMethod, number][];
  if (entries.length === 0 && !o.script) throw new Error('runLoad needs a method mix or a script');
  const totalWeight = entries.reduce((a, [, w]) => a + w, 0);
  const pick = (): LoadMethod => {
    let r = Math.random() * totalWeight;
    for (const [m, w] of entries) if ((r -= w) < 0) return m;
    return entries[entries.length - 1]![0];
  };
  const samples: number[] = [];
  const perMethod = new Map<string, { s: number[]; e: number }>();
  const r: LoadReport = {
    sent: 0, ok: 0, errors: 0, rpcErrors: 0, timeouts: 0, notRouted: 0, notConnected: 0, skipped: 0,
    durationMs: 0, achievedRatePerSec: 0, latency: summarize([]), byMethod: {}, errorSamples: [],
  };
  const maxInFlight = o.maxInFlight ?? 10_000;
  let inFlight = 0;
  const pendings = new Set<Promise<void>>();
  const t0 = performance.now();
  let n = 0;

  const sendOne = () => {
    const accountId = o.accountIds[n % o.accountIds.length]!;
    let method: LoadMethod;
    let base: Record<string, unknown>;
    if (o.script) {
      ({ method, params: base } = o.script(accountId, Math.floor(n / o.accountIds.length)));
    } else {
      method = pick();
      base = o.params ? o.params(method, accountId, n) : (DEFAULT_PARAMS[method] ?? {});
    }
    const params = isTablesMethod(method)
      ? { requestorInfo: { requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId: 'load-generator' } }, ...base }
      : { ...base, headers: { dojoRequestingProduct: 'LoadGenerator' } };
    n++;
    if (inFlight >= maxInFlight) {
      r.skipped++;
      return;
    }
    r.sent++;
    inFlight++;
    const started = performance.now();
    let pm = perMethod.get(method);
    if (!pm) perMethod.set(method, (pm = { s: [], e: 0 }));
    const bucket = pm;
    const p = hub
      .call(accountId, method, params, { timeoutMs: o.timeoutMs })
      .then((reply) => {
        const ms = performance.now() - started;
        samples.push(ms);
        bucket.s.push(ms);
        if (isFailure(reply)) {
          r.rpcErrors++;
          bucket.e++;
          if (r.errorSamples.length < 10) r.errorSamples.push(`${method}: ${reply.error.errorType}: ${String(reply.error.debugMessage).slice(0, 200)}`);
        } else if (isTablesError(reply.result)) {
          // The Tables API answers errors inside result.
          r.rpcErrors++;
          bucket.e++;
          if (r.errorSamples.length < 10) r.errorSamples.push(`${method}: ${reply.result.errorCode}: ${reply.result.errorReason.slice(0, 200)}`);
        } else r.ok++;
      })
      .catch((err: unknown) => {
        bucket.e++;
        if (r.errorSamples.length < 10) r.errorSamples.push(`${method}: ${(err as Error).message}`);
        if (err instanceof CallTimeoutError) r.timeouts++;
        else if (err instanceof NotRoutedError) r.notRouted++;
        else if (err instanceof NotConnectedError) r.notConnected++;
        else r.rpcErrors++;
      })
      .finally(() => {
        inFlight--;
        pendings.delete(p);
      });
    pendings.add(p);
  };

  const sendWindow = await sendAtRate(o, t0, sendOne);
  await Promise.allSettled([...pendings]);
  r.durationMs = Math.round(performance.now() - t0);
  r.achievedRatePerSec = Math.round((r.sent / sendWindow) * 1000 * 10) / 10;
  r.errors = r.rpcErrors + r.timeouts + r.notRouted + r.notConnected;
  r.latency = summarize(samples, r.errors);
  for (const [m, v] of perMethod) r.byMethod[m] = summarize(v.s, v.e);
  return r;
}
