import { ConnectPat } from '@app/contracts';
import { CallTimeoutError } from './epos-hub';
import type { LatencyStats } from './latency';
import { sendAtRate, summarize } from './latency';
import type { PatHub } from './pat-hub';

export interface PatLoadOptions {
  /** Accounts connected over PAT, requests spread round robin. */
  accountIds: string[];
  /** Open loop: sends do not wait for replies. */
  ratePerSec: number;
  durationMs: number;
  /** The table each account's script works on (default T1). */
  tableId?: string;
  timeoutMs?: number;
}

export interface PatLoadReport {
  sent: number;
  ok: number;
  /** errorMessage replies, timeouts and sends that failed. */
  errors: number;
  timeouts: number;
  durationMs: number;
  achievedRatePerSec: number;
  latency: LatencyStats;
  byMethod: Record<string, LatencyStats>;
  errorSamples: string[];
}

const M = ConnectPat.PAT_METHODS;

/**
 * Load over Connect PAT: each account repeats the terminal's read-and-lock
 * cycle on its table (tableListRequest, tableLockRequest, posReceiptRequest,
 * tableUnlock) at a target rate across accounts, so locks are released and
 * nothing is paid. Latency from send to reply per message.
 */
export async function runPatLoad(pat: PatHub, o: PatLoadOptions): Promise<PatLoadReport> {
  if (o.accountIds.length === 0) throw new Error('runPatLoad needs at least one account');
  const cycle = [M.tableList, M.tableLock, M.posReceipt, M.tableUnlock] as const;
  const tableId = o.tableId ?? 'T1';
  const samples: number[] = [];
  const per = new Map<string, { s: number[]; e: number }>();
  const r: PatLoadReport = { sent: 0, ok: 0, errors: 0, timeouts: 0, durationMs: 0, achievedRatePerSec: 0, latency: summarize([]), byMethod: {}, errorSamples: [] };
  const pendings = new Set<Promise<void>>();
  const t0 = performance.now();
  let n = 0;
  const sendOne = () => {
    const accountId = o.accountIds[n % o.accountIds.length]!;
    const method = cycle[Math.floor(n / o.accountIds.length) % cycle.length]!;
    n++;
    r.sent++;
    const bucket = per.get(method) ?? { s: [], e: 0 };
    per.set(method, bucket);
    const started = performance.now();
    const params = method === M.tableList ? {} : { tableId, tid: `LOAD${accountId.slice(-8)}` };
    const p = pat
      .call(accountId, method, params, { timeoutMs: o.timeoutMs })
      .then((reply) => {
        const ms = performance.now() - started;
        samples.push(ms);
        bucket.s.push(ms);
        if (!reply || 'error' in reply) {
          bucket.e++;
          r.errors++;
          if (r.errorSamples.length < 10) r.errorSamples.push(`${method}: ${reply && 'error' in reply ? reply.error.message : 'no reply'}`);
        } else r.ok++;
      })
      .catch((err: unknown) => {
        bucket.e++;
        r.errors++;
        if (err instanceof CallTimeoutError) r.timeouts++;
        if (r.errorSamples.length < 10) r.errorSamples.push(`${method}: ${(err as Error).message}`);
      })
      .finally(() => pendings.delete(p));
    pendings.add(p);
  };
  const window = await sendAtRate(o, t0, sendOne);
  await Promise.allSettled([...pendings]);
  r.durationMs = Math.round(performance.now() - t0);
  r.achievedRatePerSec = Math.round((r.sent / window) * 10_000) / 10;
  r.latency = summarize(samples, r.errors);
  for (const [m, v] of per) r.byMethod[m] = summarize(v.s, v.e);
  return r;
}
