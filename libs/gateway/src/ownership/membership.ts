import type Redis from 'ioredis';

export function membersKey(prefix: string): string {
  return `${prefix}:gw:members`;
}

/**
 * Live gateway replicas: a sorted set scored by each member's expiry time.
 * A replica heartbeats by pushing its expiry forward; one that stops (crash,
 * kill -9) drops out once its score passes.
 */
export class Membership {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly replicaId: string,
    private readonly ttlMs: number,
  ) {}

  /** Renews this replica's membership and returns the live members (sorted). */
  async heartbeat(): Promise<string[]> {
    const now = Date.now();
    const key = membersKey(this.prefix);
    const res = await this.redis
      .multi()
      .zadd(key, now + this.ttlMs, this.replicaId)
      .zremrangebyscore(key, '-inf', now)
      .zrangebyscore(key, now, '+inf')
      .pexpire(key, this.ttlMs * 10)
      .exec();
    const members = (res?.[2]?.[1] as string[] | undefined) ?? [];
    return [...members].sort();
  }

  async leave(): Promise<void> {
    await this.redis.zrem(membersKey(this.prefix), this.replicaId);
  }
}
