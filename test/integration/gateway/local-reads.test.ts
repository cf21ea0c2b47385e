import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { success } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import { RpcWorkerHost } from '@app/queue';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

/**
 * GATEWAY_READS: with `local` (the default) the gateway answers a request that only reads from Postgres itself,
 * and sends every change to the workers; with `queue` every request goes to the workers. The worker here is a
 * stand-in that records what reached it and answers a marker, so an answer shows which side produced it.
 */
describe('gateway reads: answered by the replica that owns the socket, changes through the queue', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let worker: RpcWorkerHost;
  const jobs: RpcJob[] = [];
  let prefix: string;

  before(async () => {
    db = await createTestDatabase('gwreads');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    prefix = uniquePrefix('gwreads');
    worker = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      concurrency: 5,
      handler: async (job) => {
        jobs.push(job);
        return success(job.rpcId, { answeredBy: 'worker' });
      },
    });
    worker.start();
    await worker.waitUntilReady();
  });

  after(async () => {
    await worker.close();
    await fake.close();
    await db.drop();
  });

  async function venue(reads?: 'local' | 'queue'): Promise<{ gw: TestGateway; conn: FakeConnection; locationId: string; orderId: string }> {
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id, capabilities: ['GetOrderById', 'SearchOrders', 'CreateOrderLock'] });
    const order = await fx.order(loc.id, { total: 1234 });
    const gw = await bootGateway(db, { QUEUE_PREFIX: prefix, DOJO_WS_URL: fake.url, ...(reads ? { GATEWAY_READS: reads } : {}) });
    const conn = await waitFor(() => fake.open(loc.apiKey)[0], 'link');
    return { gw, conn, locationId: loc.id, orderId: order.id };
  }

  it('by default answers GetOrderByIdV1 and SearchOrdersV1 from Postgres without a worker, and queues CreateOrderLockV1', async () => {
    const { gw, conn, locationId, orderId } = await venue();
    try {
      const seen = jobs.length;
      const got = await fake.request(conn, { jsonrpc: '2.0', id: 'r1', method: 'GetOrderByIdV1', params: { orderId, headers: {} } }, 'r1');
      assert.equal(got.error, undefined, JSON.stringify(got));
      assert.equal(got.result.order?.id ?? got.result.id, orderId, JSON.stringify(got.result));
      assert.ok(JSON.stringify(got.result).includes('1234'), 'the stored order, read from Postgres');
      const found = await fake.request(conn, { jsonrpc: '2.0', id: 'r2', method: 'SearchOrdersV1', params: { headers: {} } }, 'r2');
      assert.equal(found.error, undefined, JSON.stringify(found));
      assert.ok(JSON.stringify(found.result).includes(orderId), 'the search finds the order');
      assert.equal(jobs.length, seen, 'no read reached the queue');

      const expiry = new Date(Date.now() + 60_000).toISOString();
      const lock = await fake.request(conn, { jsonrpc: '2.0', id: 'c1', method: 'CreateOrderLockV1', params: { orderId, lockId: 'lk1', expiry, headers: {} } }, 'c1');
      assert.deepEqual(lock.result, { answeredBy: 'worker' }, 'the change went to the worker');
      const job = jobs.find((j) => j.rpcId === 'c1');
      assert.ok(job, 'the change reached the queue');
      assert.equal(job.locationId, locationId);
      assert.equal(job.method, 'CreateOrderLockV1');
    } finally {
      await gw.close();
    }
  });

  it('with GATEWAY_READS=queue sends reads to the workers too', async () => {
    const { gw, conn, orderId } = await venue('queue');
    try {
      const got = await fake.request(conn, { jsonrpc: '2.0', id: 'q1', method: 'GetOrderByIdV1', params: { orderId, headers: {} } }, 'q1');
      assert.deepEqual(got.result, { answeredBy: 'worker' });
      assert.equal(jobs.find((j) => j.rpcId === 'q1')?.method, 'GetOrderByIdV1');
    } finally {
      await gw.close();
    }
  });
});
