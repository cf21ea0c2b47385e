import type { RedisOptions } from 'ioredis';
import Redis from 'ioredis';

/**
 * A Redis connection for commands (fail fast: one retry per request, no offline
 * queue) or for BullMQ workers / subscribers (blocking: maxRetriesPerRequest null).
 */
export function createRedis(url: string, kind: 'command' | 'blocking' = 'command', extra: RedisOptions = {}): Redis {
  const opts: RedisOptions =
    kind === 'blocking'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5_000 };
  const client = new Redis(url, { lazyConnect: false, retryStrategy: (n) => Math.min(100 * 2 ** n, 2_000), ...opts, ...extra });
  client.on('error', () => undefined); // surfaced through health checks and failed commands
  return client;
}
