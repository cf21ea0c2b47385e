import type Redis from 'ioredis';
import { DELETE_IF_VALUE, fenceChannel, fenceKey, keyFamily } from '@app/queue';

/** In the fencing counters' hash slot (keyFamily 'gw-lease'): ACQUIRE touches both, RENEW_MANY many leases. */
export function leaseKey(prefix: string, locationId: string): string {
  return `${keyFamily(prefix, 'gw-lease')}:lease:${locationId}`;
}
// The fencing counter's key is in the queue catalog: RPC workers read it to skip requests from a superseded replica.
export { fenceKey };
export function releasedChannel(prefix: string): string {
  return `${prefix}:gw:released`;
}

// KEYS: lease, fence. ARGV: replicaId, ttlMs, the fences' channel, locationId. Returns the new fencing token, or 0
// when someone else holds the lease. The token is announced on the channel (fenceChannel) in the same script, so the
// RPC workers' copy (FenceWatch) never misses one while they are subscribed.
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local owner = string.match(cur, '^(.*):%d+$')
  if owner ~= ARGV[1] then return 0 end
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. token)
return token`;

// KEYS: leases. ARGV: ttlMs, then the expected value of each lease. Returns 1/0 per lease (renewed / no longer ours).
const RENEW_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/** Leases renewed per script call (several calls still go out in one pipeline). */
const RENEW_CHUNK = 1_000;

type LeaseRedis = Redis & {
  gwAcquire(lease: string, fence: string, replicaId: string, ttlMs: number, channel: string, locationId: string): Promise<number>;
  gwRelease(lease: string, value: string): Promise<number>;
  gwRenewMany(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

/**
 * Per-location leases with fencing tokens. The lease value is
 * "<replicaId>:<token>"; the token comes from a per-location INCR, so it only
 * grows. Renew and release are compare-and-set, so a replica that was paused
 * past its lease can never extend or delete the new owner's lease; it learns
 * it lost and steps down.
 */
export class LeaseStore {
  private readonly r: LeaseRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    readonly replicaId: string,
    readonly ttlMs: number,
  ) {
    this.r = redis as LeaseRedis;
    if (typeof this.r.gwAcquire !== 'function') {
      redis.defineCommand('gwAcquire', { numberOfKeys: 2, lua: ACQUIRE });
      redis.defineCommand('gwRelease', { numberOfKeys: 1, lua: DELETE_IF_VALUE });
    }
    if (typeof this.r.gwRenewMany !== 'function') redis.defineCommand('gwRenewMany', { lua: RENEW_MANY });
  }

  private value(token: number): string {
    return `${this.replicaId}:${token}`;
  }

  /** Takes the lease if it is free; returns the fencing token, or undefined. */
  async acquire(locationId: string): Promise<number | undefined> {
    const t = await this.r.gwAcquire(leaseKey(this.prefix, locationId), fenceKey(this.prefix, locationId), this.replicaId, this.ttlMs, fenceChannel(this.prefix), locationId);
    return t > 0 ? Number(t) : undefined;
  }

  /**
   * Renews many leases in one round trip (one compare-and-set script call per
   * 1,000 leases, all in one pipeline); returns the ids whose lease is no
   * longer ours (or could not be renewed).
   */
  async renewAll(held: ReadonlyMap<string, number>): Promise<string[]> {
    if (held.size === 0) return [];
    const entries = [...held.entries()];
    const p = this.r.pipeline();
    for (let i = 0; i < entries.length; i += RENEW_CHUNK) {
      const chunk = entries.slice(i, i + RENEW_CHUNK);
      const keys = chunk.map(([id]) => leaseKey(this.prefix, id));
      const values = chunk.map(([, token]) => this.value(token));
      // Queued on the pipeline: its reply (or error) comes back from exec() below.
      void (p as unknown as LeaseRedis).gwRenewMany(keys.length, ...keys, this.ttlMs, ...values);
    }
    const res = (await p.exec()) ?? [];
    const lost: string[] = [];
    for (let i = 0; i < entries.length; i += RENEW_CHUNK) {
      const [err, oks] = res[i / RENEW_CHUNK] ?? [new Error('no reply'), undefined];
      const list = !err && Array.isArray(oks) ? (oks as unknown[]) : [];
      const n = Math.min(RENEW_CHUNK, entries.length - i);
      for (let j = 0; j < n; j++) if (Number(list[j]) !== 1) lost.push(entries[i + j]![0]);
    }
    return lost;
  }

  /** The fencing check: is the lease still ours with this token? */
  async verify(locationId: string, token: number): Promise<boolean> {
    return (await this.r.get(leaseKey(this.prefix, locationId))) === this.value(token);
  }

  async release(locationId: string, token: number): Promise<void> {
    await this.r.gwRelease(leaseKey(this.prefix, locationId), this.value(token));
  }
}
