import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix } from '@app/testing';
import { RedisSentinelProcesses } from '../../support/redis-sentinel';
import { PlatformOnRedis } from './platform-on-redis';

/**
 * The platform on Redis behind Sentinel (a master, its replica, one Sentinel): two gateway replicas, the worker
 * and the webhook apps, all with REDIS_URL=redis+sentinel://... The master killed with kill -9 while payments
 * flow: the Sentinel promotes the replica, every app follows it, and no acknowledged payment is lost.
 */
describe('Redis behind Sentinel: request path, webhook ingest, gateway ownership, master failover', () => {
  let sentinel: RedisSentinelProcesses;
  let p: PlatformOnRedis;

  before(async () => {
    sentinel = await RedisSentinelProcesses.start();
    p = await PlatformOnRedis.start(sentinel.url, uniquePrefix('rs'), 'redissentinel');
  });

  after(async () => {
    await p?.close();
    await sentinel?.stop();
  });

  it('two gateway replicas split the venues, one link each, and the request path answers', async () => {
    await p.servesEveryVenue();
  });

  it('ingests a signed webhook: stored, queued through the master the Sentinel names, and applied', async () => {
    await p.webhookApplied('evt_sentinel_1');
  });

  it('the master killed with kill -9: the Sentinel promotes its replica, no acknowledged payment is lost, every venue is served again, webhooks still apply', async () => {
    const victim = await sentinel.master();
    console.log(`failover (Sentinel): ${await p.failoverRound(() => sentinel.kill9(victim), async () => void (await sentinel.waitPromoted(victim)))}`);
    assert.notEqual((await sentinel.master()).port, victim.port);
    await p.assertConsistentAndServed();
    await p.webhookApplied('evt_sentinel_after_failover');
  });
});
