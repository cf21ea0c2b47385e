import type Redis from 'ioredis';

// The types are shared with the admin API (libs/domain reads them), so they live in the contracts.
import type { ConnectionStatus } from '@app/contracts';
import { keyFamily } from './catalog';
export type { ConnectionState, ConnectionStatus } from '@app/contracts';

/** Status records outlive their writer by this long unless refreshed (the owner refreshes every few seconds). */
export const CONNECTION_STATUS_TTL_MS = 30_000;

export function connectionStatusKey(prefix: string, locationId: string): string {
  // One hash slot for all records: WRITE_MANY and MGET touch many at once (Redis Cluster).
  return `${keyFamily(prefix, 'gw-status')}:${locationId}`;
}

/** Writes (or refreshes) a location's status; it expires after ttlMs unless written again. */
export async function writeConnectionStatus(
  redis: Redis,
  prefix: string,
  status: ConnectionStatus,
  ttlMs: number = CONNECTION_STATUS_TTL_MS,
): Promise<void> {
  const record: ConnectionStatus = { ...status, updatedAt: new Date().toISOString() };
  await redis.set(connectionStatusKey(prefix, status.locationId), JSON.stringify(record), 'PX', Math.max(1, Math.round(ttlMs)));
}

const WRITE_MANY = `
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
end
return #KEYS`;

/** Records per script call (several calls go out in one pipeline). */
const WRITE_CHUNK = 500;

type StatusRedis = Redis & { gwWriteStatuses(numKeys: number, ...args: (string | number)[]): Promise<number> };

/**
 * Writes many statuses in one round trip (one script call per 500 records, all
 * in one pipeline), each expiring after ttlMs unless written again.
 */
export async function writeConnectionStatuses(
  redis: Redis,
  prefix: string,
  statuses: readonly ConnectionStatus[],
  ttlMs: number = CONNECTION_STATUS_TTL_MS,
): Promise<void> {
  if (statuses.length === 0) return;
  const r = redis as StatusRedis;
  if (typeof r.gwWriteStatuses !== 'function') redis.defineCommand('gwWriteStatuses', { lua: WRITE_MANY });
  const updatedAt = new Date().toISOString();
  const px = Math.max(1, Math.round(ttlMs));
  const p = r.pipeline() as unknown as StatusRedis;
  for (let i = 0; i < statuses.length; i += WRITE_CHUNK) {
    const chunk = statuses.slice(i, i + WRITE_CHUNK);
    const keys = chunk.map((s) => connectionStatusKey(prefix, s.locationId));
    const values = chunk.map((s) => JSON.stringify({ ...s, updatedAt }));
    // Queued on the pipeline (sent by exec() below), not a promise of its own.
    void p.gwWriteStatuses(keys.length, ...keys, px, ...values);
  }
  const res = (await (p as unknown as ReturnType<Redis['pipeline']>).exec()) ?? [];
  const failed = res.find(([err]) => err)?.[0];
  if (failed) throw failed;
}

/** Statuses for the given locations; a location no replica reports on is `unowned`. */
export async function readConnectionStatuses(redis: Redis, prefix: string, locationIds: string[]): Promise<Map<string, ConnectionStatus>> {
  const out = new Map<string, ConnectionStatus>();
  if (locationIds.length === 0) return out;
  const now = new Date().toISOString();
  const CHUNK = 500;
  for (let i = 0; i < locationIds.length; i += CHUNK) {
    const ids = locationIds.slice(i, i + CHUNK);
    const raws = await redis.mget(...ids.map((id) => connectionStatusKey(prefix, id)));
    ids.forEach((id, j) => {
      const raw = raws[j];
      let status: ConnectionStatus | undefined;
      if (raw) {
        try {
          status = JSON.parse(raw) as ConnectionStatus;
        } catch {
          status = undefined;
        }
      }
      out.set(id, status ?? { locationId: id, state: 'unowned', since: now, reconnects: 0, requestsServed: 0 });
    });
  }
  return out;
}
