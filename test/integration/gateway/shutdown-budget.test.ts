import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { success } from '@app/contracts';
import { RpcWorkerHost } from '@app/queue';
import { leaseKey } from '@app/gateway';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

/** 1.5 s of it for the replies in flight (shutdownReplyWaitMs), the rest for closing the links and releasing leases. */
const SHUTDOWN_TIMEOUT_MS = 3_000;

/**
 * A stopping gateway waits for the replies in flight, but only within its shutdown budget: a request that outlasts
 * it (a PAC signature request waiting up to 75 s for the POS, or a write stuck for its whole 10 s deadline) must not
 * keep the replica past SHUTDOWN_TIMEOUT_MS, where the process is ended with its leases still held and the venue
 * waits a lease TTL for its next owner.
 */
describe('gateway: a stop waits for replies within SHUTDOWN_TIMEOUT_MS, then hands over', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let worker: RpcWorkerHost;
  let gw: TestGateway | undefined;
  let redis: Redis;
  let prefix: string;
  let loc: { id: string; apiKey: string };
  let running = 0;

  before(async () => {
    db = await createTestDatabase('gwshutdownbudget');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    redis = new Redis(testRedisUrl());
    prefix = uniquePrefix('gwstop');
    worker = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      concurrency: 4,
      // Answers well within the method's own deadline (8 s for a read), but after the shutdown's reply budget.
      handler: async (job) => {
        running++;
        await sleep(6_000);
        return success(job.rpcId, { id: 'late' });
      },
    });
    worker.start();
    await worker.waitUntilReady();
    const sh = await fx.softwareHouse();
    loc = await fx.location({ softwareHouseId: sh.id, capabilities: ['GetOrderById'] });
    gw = await bootGateway(db, {
      QUEUE_PREFIX: prefix,
      GATEWAY_READS: 'queue',
      DOJO_WS_URL: fake.url,
      GATEWAY_LEASE_TTL_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });
    await waitFor(() => fake.open(loc.apiKey)[0], 'link');
  });

  after(async () => {
    await gw?.close().catch(() => undefined); // best effort (teardown)
    await worker.close();
    await fake.close();
    redis.disconnect();
    await db?.drop();
  });

  it('a reply still pending when the budget ends is given up, and the lease is released in time', async () => {
    const conn = fake.open(loc.apiKey)[0]!;
    assert.ok(await redis.get(leaseKey(prefix, loc.id)), 'leased before the stop');
    const pending = fake.request(conn, { jsonrpc: '2.0', id: 'slow-1', method: 'GetOrderByIdV1', params: { orderId: 'o-1', headers: {} } }, 'slow-1', 5_000);
    pending.catch(() => undefined); // never answered: the link closes first
    await waitFor(() => running > 0 || undefined, 'the request running on the worker', 5_000, 5);
    const t0 = Date.now();
    await gw!.close();
    const took = Date.now() - t0;
    gw = undefined;
    assert.ok(took < SHUTDOWN_TIMEOUT_MS, `stopped within SHUTDOWN_TIMEOUT_MS (${took} ms)`);
    assert.ok(took >= 1_400, `waited for the reply while the budget allowed (${took} ms)`);
    assert.equal(await redis.get(leaseKey(prefix, loc.id)), null, 'the lease was released, not left to expire');
    await assert.rejects(pending, /no reply/, 'no reply was sent on a closed link');
  });
});
