import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { JsonRpcResponse } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { RpcWorkerHost, RPC_TRANSPORTS } from '@app/queue';
import { createLogger } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, sleep, testRedisUrl, uniquePrefix, waitFor, fixtures } from '@app/testing';
import { GBP } from '../worker/fixtures';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

const DEADLINE_MS = 3_000;

/**
 * Issue 18, item 1, through the gateway app as it is wired (GatewayService gives
 * its RpcClient the processed_requests claim): a worker frozen around its commit
 * never turns into a false "nothing was applied" on Dojo's socket.
 */
for (const transport of RPC_TRANSPORTS) describe(`gateway deadline: the answer Dojo gets matches what was committed [${transport}]`, () => {
  let db: TestDatabase;
  let fake: FakeDojo;
  let worker: RpcWorkerHost;
  let gw: TestGateway | undefined;
  let conn: FakeConnection;
  let locationId: string;
  const handled = new Map<string, Promise<JsonRpcResponse>>();

  before(async () => {
    db = await createTestDatabase('gwdeadline');
    fake = await new FakeDojo().start();
    const prefix = uniquePrefix('gwdeadline');
    const sh = await fixtures(db.prisma).softwareHouse();
    const loc = await fixtures(db.prisma).location({ softwareHouseId: sh.id });
    locationId = loc.id;
    const dispatcher = new RpcDispatcher({
      prisma: db.prisma,
      logger: createLogger('test-worker', 'silent'),
      events: { ingest: async () => ({ eventRowId: '0', duplicate: false }) },
    });
    worker = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      concurrency: 4,
      handler: (job: RpcJob) => {
        const p = (async () => {
          if (job.rpcId.startsWith('freeze-')) {
            const res = await dispatcher.handle(job); // committed in time...
            await sleep(job.deadline - Date.now() + 1_500); // ...then frozen past the deadline before replying
            return res;
          }
          if (job.rpcId.startsWith('late-')) return dispatcher.handle({ ...job, deadline: job.deadline + 60_000 }); // thinks it has time
          return dispatcher.handle(job);
        })();
        handled.set(job.rpcId, p);
        return p;
      },
    });
    worker.start();
    await worker.waitUntilReady();
    gw = await bootGateway(db, { QUEUE_PREFIX: prefix, RPC_TRANSPORT: transport, DOJO_WS_URL: fake.url, GATEWAY_DEADLINE_OVERRIDE_MS: String(DEADLINE_MS) });
    conn = await waitFor(() => fake.open(loc.apiKey)[0], 'link');
  });

  after(async () => {
    await gw?.close().catch(() => undefined); // best effort (teardown)
    await worker?.close();
    await fake?.close();
    await db?.drop();
  });

  const pay = (id: string, orderId: string, pi: string, value: number) => ({
    jsonrpc: '2.0',
    id,
    method: 'RecordOrderPaymentByIdV1',
    params: { orderId, paymentIntentId: pi, paidAmount: GBP(value), headers: {} },
  });

  it('worker froze after committing: Dojo gets the payment, not an error', async () => {
    await fixtures(db.prisma).order(locationId, { id: 'G-1', total: 1_000, tableId: 'T1' });
    const reply = await fake.request(conn, pay('freeze-1', 'G-1', 'pi_g1', 600), 'freeze-1', DEADLINE_MS + 5_000);
    assert.equal(reply.error, undefined, JSON.stringify(reply));
    assert.equal(reply.result.paidAmount.value, 600);
    await handled.get('freeze-1');
    await sleep(200);
    assert.equal(conn.received.filter((m: any) => m?.id === 'freeze-1').length, 1, 'one reply');
  });

  it('worker not committed at the deadline: Dojo gets the error, the payment never lands, and the retried id gets the same error', async () => {
    await fixtures(db.prisma).order(locationId, { id: 'G-2', total: 1_000, tableId: 'T2' });
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE payments IN SHARE MODE'); // holds the worker's final write
    let reply: Record<string, any>;
    try {
      reply = await fake.request(conn, pay('late-1', 'G-2', 'pi_g2', 300), 'late-1', DEADLINE_MS + 5_000);
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    assert.equal(reply.error?.errorType, 'UnexpectedError', JSON.stringify(reply));
    assert.match(reply.error.debugMessage, /nothing was applied/);
    await handled.get('late-1');
    assert.equal(await db.prisma.payment.count({ where: { locationId, orderId: 'G-2' } }), 0, 'the late commit was refused');
    conn.ws.send(JSON.stringify(pay('late-1', 'G-2', 'pi_g2', 300)));
    const replies = await waitFor(() => {
      const r = conn.received.filter((m: any) => m?.id === 'late-1');
      return r.length === 2 ? r : undefined;
    }, 'the retry answered', 5_000);
    assert.deepEqual(replies[1], reply, "Dojo's retry of the id gets the stored error");
    assert.equal(await db.prisma.payment.count({ where: { locationId, orderId: 'G-2' } }), 0);
  });
});
