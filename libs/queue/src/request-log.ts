import type Redis from 'ioredis';
import { keyFamily } from './catalog';

/**
 * The capped per-location record of recent JSON-RPC requests: a Redis list per
 * location, newest first, trimmed to REQUEST_LOG_CAP entries and expiring
 * REQUEST_LOG_TTL_MS after the last write. Written by the gateway replica that
 * answered (batched: one pipeline per REQUEST_LOG_FLUSH_MS), read by the admin.
 */
export const REQUEST_LOG_CAP = 100;
export const REQUEST_LOG_TTL_MS = 24 * 3_600_000;

export interface RequestLogEntry {
  /** ISO time the request was received. */
  at: string;
  /** Null when the frame could not be decoded far enough to name it (or a batch: "batch"). */
  method: string | null;
  rpcId: string | null;
  /** Receipt to reply, in milliseconds. */
  ms: number;
  outcome: 'ok' | 'error';
  errorType?: string;
  traceId: string;
  replicaId?: string;
}

export function requestLogKey(prefix: string, locationId: string): string {
  // One hash slot for all records: they are written and read in pipelines (Redis Cluster).
  return `${keyFamily(prefix, 'gw-requests')}:${locationId}`;
}

/** A key's TTL is pushed forward at most this often (it is REQUEST_LOG_TTL_MS long). */
const EXPIRE_EVERY_MS = 60_000;

/**
 * How long a new entry may wait for the pipeline that writes it. One write per window instead of one per turn of
 * the event loop: at 200 requests/s each request used to be its own turn, so the record cost the gateway a socket
 * write and a wake-up for the reply per request, and Redis the same. A quarter of a second is far below what a
 * reader of the record notices (the console re-reads it when a status record, written once a heartbeat, moves).
 */
export const REQUEST_LOG_FLUSH_MS = 250;

/** More entries than this waiting start a write at once (bounds the buffer under any load). */
const MAX_PENDING = 1_000;

export interface RequestLogWriterOptions {
  /** The write window (REQUEST_LOG_FLUSH_MS); 0 writes once per turn of the event loop. */
  flushMs?: number;
  cap?: number;
  ttlMs?: number;
}

/**
 * Buffers entries and writes them in one pipeline per window (`flushMs`): for
 * each location that answered, one LPUSH of all its new entries and LTRIM to
 * the cap, plus PEXPIRE when that key's TTL was last pushed forward more than a
 * minute ago (the TTL is a day: refreshing it on every request cost Redis a
 * command per request). Many requests share the commands and the round trip.
 * Failures are dropped (the record is diagnostic, never on the request path);
 * so are the entries of the last window when the process dies without a last flush().
 */
export class RequestLogWriter {
  private readonly pending = new Map<string, string[]>();
  private pendingCount = 0;
  private readonly expiredAt = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private readonly flushMs: number;
  private readonly cap: number;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: RequestLogWriterOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? REQUEST_LOG_FLUSH_MS;
    this.cap = opts.cap ?? REQUEST_LOG_CAP;
    this.ttlMs = opts.ttlMs ?? REQUEST_LOG_TTL_MS;
  }

  record(locationId: string, entry: RequestLogEntry): void {
    let list = this.pending.get(locationId);
    if (!list) this.pending.set(locationId, (list = []));
    list.push(JSON.stringify(entry));
    this.pendingCount++;
    if (this.immediate) return;
    if (this.flushMs <= 0 || this.pendingCount >= MAX_PENDING) {
      this.immediate = setImmediate(() => void this.flush()); // flush never rejects
    } else if (!this.timer) {
      // Unref'd: a pending record never keeps a process alive (a graceful stop calls flush()).
      this.timer = setTimeout(() => void this.flush(), this.flushMs).unref(); // flush never rejects
    }
  }

  /** Writes what is buffered now (never rejects); the gateway calls it once more on a graceful stop. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.pending.size === 0) return;
    const now = Date.now();
    const p = this.redis.pipeline();
    const refreshed: string[] = [];
    for (const [id, entries] of this.pending) {
      const key = requestLogKey(this.prefix, id);
      p.lpush(key, ...entries.slice(-this.cap));
      p.ltrim(key, 0, this.cap - 1);
      const last = this.expiredAt.get(id);
      if (last === undefined || now - last >= EXPIRE_EVERY_MS) {
        p.pexpire(key, this.ttlMs);
        this.expiredAt.set(id, now);
        refreshed.push(id);
      }
    }
    this.pending.clear();
    this.pendingCount = 0;
    if (this.expiredAt.size > 50_000) for (const [id, at] of this.expiredAt) if (now - at >= EXPIRE_EVERY_MS) this.expiredAt.delete(id);
    const res = await p.exec().catch(() => null);
    // A failed pipeline (or PEXPIRE) may have left a key without its TTL: the next flush of those locations sets it.
    if (!res || res.some(([err]) => err)) for (const id of refreshed) this.expiredAt.delete(id);
  }
}

export async function readRequestLog(redis: Redis, prefix: string, locationId: string, limit = REQUEST_LOG_CAP): Promise<RequestLogEntry[]> {
  const raws = await redis.lrange(requestLogKey(prefix, locationId), 0, Math.max(0, limit - 1));
  return parseEntries(raws);
}

function parseEntries(raws: string[]): RequestLogEntry[] {
  const out: RequestLogEntry[] = [];
  for (const raw of raws) {
    try {
      out.push(JSON.parse(raw) as RequestLogEntry);
    } catch {
      // a foreign value: skipped
    }
  }
  return out;
}

/** Errors answered in the last `windowMs` per location, from the records (one pipelined LRANGE per location). */
export async function countRecentErrors(
  redis: Redis,
  prefix: string,
  locationIds: string[],
  windowMs = 5 * 60_000,
  now = Date.now(),
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (locationIds.length === 0) return out;
  const p = redis.pipeline();
  for (const id of locationIds) p.lrange(requestLogKey(prefix, id), 0, -1);
  const res = (await p.exec()) ?? [];
  const since = now - windowMs;
  locationIds.forEach((id, i) => {
    const [err, raws] = res[i] ?? [];
    let n = 0;
    if (!err && Array.isArray(raws)) {
      for (const e of parseEntries(raws as string[])) {
        if (Date.parse(e.at) < since) break; // newest first
        if (e.outcome === 'error') n++;
      }
    }
    out.set(id, n);
  });
  return out;
}
