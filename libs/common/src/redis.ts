import type { ClusterOptions, RedisOptions } from 'ioredis';
import Redis, { Cluster } from 'ioredis';
import { parseRedisUrl } from '@app/config';

/**
 * A Redis connection for commands (fail fast: one retry per request, no offline
 * queue) or for BullMQ workers / subscribers (blocking: maxRetriesPerRequest null).
 *
 * `url` is REDIS_URL in any of its forms (libs/config redis-url.ts): one Redis
 * (over TCP or its Unix socket), a Redis Cluster or Sentinels. For a Cluster this returns an ioredis `Cluster`
 * typed as `Redis`: it has the same command interface (commands, pipelines,
 * MULTI, scripts, pub/sub, duplicate()) and BullMQ takes it as a connection.
 * What a Cluster adds is the one-hash-slot rule for multi-key commands, which
 * the key families in libs/queue catalog.ts follow.
 */
export function createRedis(url: string, kind: 'command' | 'blocking' = 'command', extra: RedisOptions = {}): Redis {
  const opts: RedisOptions =
    kind === 'blocking'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5_000 };
  const base: RedisOptions = { lazyConnect: false, retryStrategy: (n) => Math.min(100 * 2 ** n, 2_000), ...opts, ...extra };
  const target = parseRedisUrl(url);
  let client: Redis;
  if (target.kind === 'single') {
    client = new Redis(url, base);
  } else if (target.kind === 'socket') {
    client = new Redis({ ...base, path: target.path, db: target.db, username: target.username, password: target.password });
  } else if (target.kind === 'sentinel') {
    client = new Redis({
      ...base,
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      username: target.username,
      password: target.password,
      sentinelUsername: target.sentinelUsername,
      sentinelPassword: target.sentinelPassword,
      ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    });
  } else {
    const { retryStrategy, lazyConnect, ...redisOptions } = base;
    const clusterOpts: ClusterOptions = {
      lazyConnect,
      clusterRetryStrategy: (n) => (retryStrategy ? retryStrategy(n) : Math.min(100 * 2 ** n, 2_000)),
      // Both sides of a failover: a dead master's slots answer CLUSTERDOWN or time out until its replica is promoted.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      // A blocked reader (XREAD BLOCK, BullMQ) must not be cut by a slots refresh.
      slotsRefreshTimeout: 2_000,
      enableOfflineQueue: redisOptions.enableOfflineQueue ?? true,
      redisOptions: { ...redisOptions, username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) },
    };
    // Cluster implements Redis's command interface; see the comment above.
    client = new Cluster(target.nodes, clusterOpts) as unknown as Redis;
  }
  client.on('error', () => undefined); // surfaced through health checks and failed commands
  return client;
}
