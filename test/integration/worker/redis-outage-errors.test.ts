import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { JsonRpcResponse } from '@app/contracts';
import { isFailure } from '@app/contracts';
import { ProcessedRequests } from '@app/domain/rpc';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { RpcClient, RpcWorkerHost, RPC_TRANSPORTS } from '@app/queue';
import type { TestDatabase, LocationFixture } from '@app/testing';
import { createTestDatabase, sleep, testRedisUrl, uniquePrefix, fixtures } from '@app/testing';
import { CuttableProxy } from '../../support/cuttable-proxy';
import { GBP, rpcJob } from './fixtures';

/** Words of Redis / ioredis / BullMQ / Node errors that must never reach Dojo. */
const INTERNAL = /redis|ioredis|bullmq|max retries|ECONNREFUSED|connect|stream isn't writeable|enableOfflineQueue|127\.0\.0\.1|\(.*Error/i;

/**
 * Issue 18, item 2: during a Redis outage Dojo gets a stable, readable
 * debugMessage and the traceId; what went wrong is in the log under that traceId.
 */
describe('redis outage: internal error messages never reach Dojo', () => {
  let db: TestDatabase;
  let client: RpcClient;
  let A: LocationFixture;
  const logLines: string[] = [];

  before(async () => {
    db = await createTestDatabase('redis_outage');
    A = await fixtures(db.prisma).location({ name: 'The Outage' });
    await fixtures(db.prisma).order(A.id, { id: 'R-1', total: 1000, tableId: 'T1' });
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, cb) {
          logLines.push(String(chunk));
          cb();
        },
      }),
    );
    const processed = new ProcessedRequests(db.prisma);
    const proxy = await new CuttableProxy().start(new URL(testRedisUrl()));
    client = new RpcClient({
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      prefix: uniquePrefix('outage'),
      replicaId: 'gw-outage',
      claim: (job, error) => processed.claimAtDeadline(job, error),
      logger,
    });
    await client.start();
    await proxy.cut();
  });

  after(async () => {
    await client?.close();
    await db?.drop();
  });

  function check(res: JsonRpcResponse, traceId: string, locationId: string, says = /could not accept the request.*nothing was applied/) {
    assert.ok(isFailure(res), `expected an error, got ${JSON.stringify(res)}`);
    assert.equal(res.error.errorType, 'UnexpectedError');
    assert.equal(res.error.traceId, traceId, 'the reply carries the traceId');
    assert.doesNotMatch(res.error.debugMessage, INTERNAL, `internal text reached Dojo: ${res.error.debugMessage}`);
    assert.doesNotMatch(res.error.message, INTERNAL);
    assert.match(res.error.debugMessage, says);
    const lines = logLines.filter((l) => l.includes(traceId)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const detail = lines.find((l) => typeof l.err === 'string' && /max retries|ECONNREFUSED|connect|Connection is closed|writeable/i.test(l.err));
    assert.ok(detail, `the log line with the traceId carries the detail: ${JSON.stringify(lines)}`);
    assert.equal(detail.locationId, locationId);
  }

  it('a read: stable message and traceId; the detail is logged', async () => {
    const job = rpcJob(A.id, 'GetOrderByIdV1', { orderId: 'R-1' }, { deadline: Date.now() + 8_000 });
    check(await client.call(job), job.traceId, A.id);
  });

  it('HandleEventV1: the same, but it asks for the event again instead of claiming nothing was applied (it may be stored later)', async () => {
    const payload = { id: 'evt_1', event: 'payment_intent.created', accountId: 'acc', createdAt: new Date().toISOString(), data: {} };
    const job = rpcJob(A.id, 'HandleEventV1', payload, { deadline: Date.now() + 8_000 });
    const res = await client.call(job);
    check(res, job.traceId, A.id, /deliver it again/);
    assert.ok(isFailure(res));
    assert.doesNotMatch(res.error.debugMessage, /nothing was applied/);
  });

  it('a payment: the same, and the stored answer makes sure nothing can be applied later', async () => {
    const job = rpcJob(A.id, 'RecordOrderPaymentByIdV1', { orderId: 'R-1', paymentIntentId: 'pi_r1', paidAmount: GBP(100) }, { deadline: Date.now() + 8_000 });
    const res = await client.call(job);
    check(res, job.traceId, A.id);
    const row = await db.prisma.processedRequest.findUniqueOrThrow({ where: { locationId_dialect_rpcId: { dialect: 'epos-data', locationId: A.id, rpcId: job.rpcId } } });
    assert.deepEqual(row.response, res);
  });
});

/**
 * A Redis failover (Cluster or Sentinel) leaves the gateway without a Redis for a few seconds. A request sent
 * meanwhile is sent again (RpcClient's sendRetryMs) instead of being refused: a refusal of a state-changing
 * request is its stored answer, which Dojo's retries of the same id would get too.
 */
for (const transport of RPC_TRANSPORTS) describe(`redis away for a moment: a request sent meanwhile is sent again and answered [${transport}]`, () => {
  let db: TestDatabase;
  let proxy: CuttableProxy;
  let client: RpcClient;
  let host: RpcWorkerHost;
  let B: LocationFixture;

  before(async () => {
    db = await createTestDatabase('redis_blip');
    B = await fixtures(db.prisma).location({ name: 'The Blip' });
    await fixtures(db.prisma).order(B.id, { id: 'B-1', total: 1000, tableId: 'T1' });
    const prefix = uniquePrefix('blip');
    const logger = pino({ level: 'silent' });
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: async () => ({ eventRowId: '0', duplicate: false }) } });
    host = new RpcWorkerHost({ redisUrl: testRedisUrl(), prefix, transport, concurrency: 2, handler: (job) => dispatcher.handle(job) });
    await host.waitUntilReady();
    host.start();
    proxy = await new CuttableProxy().start(new URL(testRedisUrl()));
    const processed = new ProcessedRequests(db.prisma);
    client = new RpcClient({
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      prefix,
      transport,
      replicaId: 'gw-blip',
      claim: (job, error) => processed.claimAtDeadline(job, error),
      logger,
    });
    await client.start();
  });

  after(async () => {
    await client?.close();
    await host?.close();
    await proxy?.cut().catch(() => undefined);
    await db?.drop();
  });

  it('a payment sent while Redis is unreachable for about a second is applied once and answered with its result', async () => {
    await proxy.cut();
    const job = rpcJob(B.id, 'RecordOrderPaymentByIdV1', { orderId: 'B-1', paymentIntentId: 'pi_blip', paidAmount: GBP(100) }, { deadline: Date.now() + 8_000 });
    const answer = client.call(job);
    await sleep(800);
    await proxy.restore();
    const res = await answer;
    assert.ok(!isFailure(res), `answered with its result, not refused: ${JSON.stringify(res)}`);
    assert.equal(await db.prisma.payment.count({ where: { locationId: B.id, orderId: 'B-1' } }), 1);
  });
});
