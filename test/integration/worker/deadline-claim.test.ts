import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Client } from 'pg';
import type { JsonRpcResponse } from '@app/contracts';
import { isFailure } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import type { PrismaClient } from '@app/db';
import { createPrisma } from '@app/db';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { ProcessedRequests } from '@app/domain/rpc';
import { RpcClient, RpcWorkerHost, RPC_TRANSPORTS } from '@app/queue';
import type { TestDatabase, LocationFixture } from '@app/testing';
import { createTestDatabase, sleep, testRedisUrl, uniquePrefix, waitFor, fixtures } from '@app/testing';
import { GBP, rpcJob } from './fixtures';

/**
 * Issue 18, item 1: the gateway's deadline must never produce a false "nothing
 * was applied". Real Postgres, Redis, BullMQ and RpcDispatcher; the worker is
 * "frozen" by a handler wrapper around the real dispatcher.
 */
for (const transport of RPC_TRANSPORTS) describe(`deadline: an error reply means nothing was applied, even when the worker freezes [${transport}]`, () => {
  let db: TestDatabase;
  let host: RpcWorkerHost;
  let client: RpcClient;
  let deadClient: RpcClient;
  let deadPrisma: PrismaClient;
  let dispatcher: RpcDispatcher;
  let A: LocationFixture;
  const logLines: string[] = [];
  /** How the worker treats a request, by rpcId. */
  const mode = new Map<string, 'freeze-after-commit' | 'late-clock' | 'busy'>();
  const handled = new Map<string, Promise<JsonRpcResponse>>();
  const DEADLINE = 2_500;
  let prefix: string;

  before(async () => {
    db = await createTestDatabase('deadline_claim');
    A = await fixtures(db.prisma).location({ name: 'The Clock' });
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, cb) {
          logLines.push(String(chunk));
          cb();
        },
      }),
    );
    dispatcher = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: async () => ({ eventRowId: '0', duplicate: false }) } });
    prefix = uniquePrefix('deadline');
    host = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      concurrency: 4,
      handler: (job: RpcJob) => {
        const p = (async () => {
          switch (mode.get(job.rpcId)) {
            case 'freeze-after-commit': {
              // Commits in time, then stops (SIGSTOP) until well after the gateway's deadline before replying.
              const res = await dispatcher.handle(job);
              await sleep(job.deadline - Date.now() + 1_500);
              return res;
            }
            case 'busy':
              // Keeps one of the worker's places taken, so what comes next waits in the queue.
              await sleep(1_200);
              return dispatcher.handle(job);
            case 'late-clock':
              // A worker that believes it still has time (frozen after its last deadline check, or a skewed clock):
              // only the database can stop its commit now.
              return dispatcher.handle({ ...job, deadline: job.deadline + 60_000 });
            default:
              return dispatcher.handle(job);
          }
        })();
        handled.set(job.rpcId, p);
        return p;
      },
    });
    host.start();
    await host.waitUntilReady();
    const processed = new ProcessedRequests(db.prisma);
    client = new RpcClient({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      replicaId: 'gw-deadline',
      claim: (job, error) => processed.claimAtDeadline(job, error),
      logger,
    });
    await client.start();
    // A replica whose Postgres cannot be reached (nothing listens on port 1).
    deadPrisma = createPrisma('postgresql://postgres:x@127.0.0.1:1/none', { poolSize: 1, acquireTimeoutMs: 300 });
    const unreachable = new ProcessedRequests(deadPrisma);
    deadClient = new RpcClient({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      replicaId: 'gw-deadline-nopg',
      claim: (job, error) => unreachable.claimAtDeadline(job, error),
      logger,
      claimRetryMs: 100,
    });
    await deadClient.start();
  });

  after(async () => {
    await client?.close();
    await deadClient?.close();
    await host?.close();
    await deadPrisma?.$disconnect().catch(() => undefined); // best effort (teardown)
    await db?.drop();
  });

  const pay = (orderId: string, pi: string, value: number, rpcId: string) =>
    rpcJob(A.id, 'RecordOrderPaymentByIdV1', { orderId, paymentIntentId: pi, paidAmount: GBP(value) }, { rpcId, deadline: Date.now() + DEADLINE });

  it('worker committed before the deadline but replied after it: Dojo gets the committed answer, not an error', async () => {
    await fixtures(db.prisma).order(A.id, { id: 'D-1', total: 1000, tableId: 'T1' });
    mode.set('pay-d1', 'freeze-after-commit');
    const t0 = Date.now();
    const res = await client.call(pay('D-1', 'pi_d1', 400, 'pay-d1'));
    assert.ok(!isFailure(res), `expected the committed payment, got ${JSON.stringify(res)}`);
    assert.equal((res as any).result.paidAmount.value, 400);
    assert.ok(Date.now() - t0 < DEADLINE + 1_200, 'answered at the deadline from the stored response, not after the worker woke up');
    const order = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: A.id, id: 'D-1' } } });
    assert.equal(Number(order.paidAmount), 400);
  });

  it('worker not committed at the deadline: Dojo gets the error, the late commit is refused, and a retry of the id gets the same error', async () => {
    await fixtures(db.prisma).order(A.id, { id: 'D-2', total: 1000, tableId: 'T2' });
    mode.set('pay-d2', 'late-clock');
    // Hold the worker's final write (it inserts into payments) until after the gateway's deadline.
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE payments IN SHARE MODE');
    let released = false;
    try {
      const res = await client.call(pay('D-2', 'pi_d2', 300, 'pay-d2'));
      assert.ok(isFailure(res), `expected an error at the deadline, got ${JSON.stringify(res)}`);
      assert.equal(res.error.errorType, 'UnexpectedError');
      assert.match(res.error.debugMessage, /nothing was applied/);
      assert.ok(handled.has('pay-d2'), 'the worker was running the request');
      await blocker.query('COMMIT');
      released = true;
      const late = await handled.get('pay-d2')!;
      assert.deepEqual(late, res, "the worker's late attempt ends with the gateway's stored answer");
      assert.equal(await db.prisma.payment.count({ where: { locationId: A.id, orderId: 'D-2' } }), 0, 'the payment was never applied');
      const order = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: A.id, id: 'D-2' } } });
      assert.equal(Number(order.paidAmount), 0);
      assert.ok(
        logLines.some((l) => l.includes('pay-d2') && /rolled back, nothing was applied/.test(l)),
        'the worker logs plainly that its commit was refused',
      );

      // Dojo retries the same id: the stored error again, and still nothing applied.
      mode.delete('pay-d2');
      const retry = await client.call(pay('D-2', 'pi_d2', 300, 'pay-d2'));
      assert.deepEqual(retry, res);
      assert.equal(await db.prisma.payment.count({ where: { locationId: A.id, orderId: 'D-2' } }), 0);
    } finally {
      if (!released) await blocker.query('ROLLBACK').catch(() => undefined); // best effort: the connection may already have gone with the blocked transaction
      await blocker.end();
    }
  });

  it('Postgres unreachable for the claim: no error is sent; the worker\'s committed answer is, once it arrives', async () => {
    await fixtures(db.prisma).order(A.id, { id: 'D-3', total: 1000, tableId: 'T3' });
    mode.set('pay-d3', 'freeze-after-commit');
    const t0 = Date.now();
    const res = await deadClient.call(pay('D-3', 'pi_d3', 250, 'pay-d3'));
    assert.ok(!isFailure(res), `expected the committed payment, got ${JSON.stringify(res)}`);
    assert.equal((res as any).result.paidAmount.value, 250);
    assert.ok(Date.now() - t0 >= DEADLINE + 1_000, 'it waited for the worker instead of answering at the deadline');
    assert.ok(logLines.some((l) => l.includes('pay-d3') && /could not settle the request/.test(l)), 'the failed claim is logged');
  });

  it("Dojo's retry of a committed id, picked up after its deadline: the stored answer, never a worker's 'not applied'", async () => {
    await fixtures(db.prisma).order(A.id, { id: 'D-4', total: 1000, tableId: 'T4' });
    const first = await client.call(pay('D-4', 'pi_d4', 200, 'pay-d4'));
    assert.ok(!isFailure(first), JSON.stringify(first));
    // A gateway whose claim is slow (Postgres under load): a late refusal from the worker would come first.
    const processed = new ProcessedRequests(db.prisma);
    const slowClaim = new RpcClient({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      replicaId: 'gw-deadline-slow',
      claim: async (job, error) => {
        await sleep(1_500);
        return processed.claimAtDeadline(job, error);
      },
      logger: pino({ level: 'silent' }),
    });
    await slowClaim.start();
    try {
      // Every place of the worker busy for 1.2 s: the retry waits in the queue past its 300 ms deadline.
      const busy = [1, 2, 3, 4].map((i) => {
        mode.set(`busy-${i}`, 'busy');
        return client.call(rpcJob(A.id, 'GetOrderByIdV1', { orderId: 'D-4' }, { rpcId: `busy-${i}`, deadline: Date.now() + 5_000 }));
      });
      await waitFor(() => (handled.has('busy-4') ? true : undefined), 'the worker is busy');
      const retry = await slowClaim.call({ ...pay('D-4', 'pi_d4', 200, 'pay-d4'), deadline: Date.now() + 300 });
      assert.ok(!isFailure(retry), `the retry must get the committed payment, got ${JSON.stringify(retry)}`);
      assert.equal((retry as any).result.paidAmount.value, 200);
      await Promise.all(busy);
    } finally {
      await slowClaim.close();
    }
    assert.equal(await db.prisma.payment.count({ where: { locationId: A.id, orderId: 'D-4' } }), 1);
  });

  it('a read still gets the plain deadline error', async () => {
    mode.set('read-1', 'freeze-after-commit');
    const res = await client.call(rpcJob(A.id, 'GetOrderByIdV1', { orderId: 'D-1' }, { rpcId: 'read-1', deadline: Date.now() + 800 }));
    assert.ok(isFailure(res));
    assert.equal(res.error.errorType, 'UnexpectedError');
    await waitFor(() => handled.get('read-1'), 'read handled');
    await handled.get('read-1');
  });
});
