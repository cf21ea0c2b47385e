import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { Channels, JsonRpcCode, success } from '@app/contracts';
import type { RpcJob} from '@app/queue';
import { readRequestLog, RpcWorkerHost, RPC_TRANSPORTS } from '@app/queue';
import { leaseKey } from '@app/gateway';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

const DEADLINE_MS = 700;

const req = (id: unknown, orderId: string, method = 'GetOrderByIdV1') => ({
  jsonrpc: '2.0',
  id,
  method,
  params: { orderId, headers: {} },
});

function assertErrorShape(reply: Record<string, any>, code: number, errorType: string) {
  assert.equal(reply.jsonrpc, '2.0');
  assert.equal(reply.result, undefined);
  assert.equal(reply.error.code, code, JSON.stringify(reply));
  assert.equal(typeof reply.error.message, 'string');
  assert.equal(reply.error.errorType, errorType);
  assert.equal(typeof reply.error.debugMessage, 'string');
  assert.match(reply.error.traceId, /^[0-9a-f-]{36}$/);
}

for (const transport of RPC_TRANSPORTS) describe(`gateway dispatch: concurrency, malformed input, deadlines, duplicates, shutdown [${transport}]`, () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let worker: RpcWorkerHost;
  let gw: TestGateway | undefined;
  let redis: Redis;
  let conn: FakeConnection;
  let locationId: string;
  let prefix: string;
  const jobs: RpcJob[] = [];
  const executions = new Map<string, number>();
  const committed: string[] = [];

  before(async () => {
    db = await createTestDatabase('gwdispatch');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    redis = new Redis(testRedisUrl());
    prefix = uniquePrefix('gwdisp');
    worker = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      concurrency: 20,
      handler: async (job) => {
        jobs.push(job);
        executions.set(job.rpcId, (executions.get(job.rpcId) ?? 0) + 1);
        const { orderId } = job.params as { orderId: string };
        const m = /^sleep-(\d+)$/.exec(orderId);
        if (m) await sleep(Number(m[1]));
        // Like the real worker: nothing is committed once the deadline has passed.
        if (Date.now() < job.deadline) committed.push(job.rpcId);
        return success(job.rpcId, { id: orderId, servedFor: job.locationId });
      },
    });
    worker.start();
    await worker.waitUntilReady();
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id, capabilities: ['GetOrderById', 'SearchOrders'] });
    locationId = loc.id;
    gw = await bootGateway(db, {
      QUEUE_PREFIX: prefix, RPC_TRANSPORT: transport,
      // These cases drive the queue path with reads the fake worker answers (local-reads.test.ts covers the gateway's own).
      GATEWAY_READS: 'queue',
      DOJO_WS_URL: fake.url,
      GATEWAY_DEADLINE_OVERRIDE_MS: String(DEADLINE_MS),
      GATEWAY_MAX_MESSAGE_BYTES: '2048',
      GATEWAY_REPLY_CACHE_MS: '5000',
      GATEWAY_LEASE_TTL_MS: '1000',
    });
    conn = await waitFor(() => fake.open(loc.apiKey)[0], 'link');
  });

  after(async () => {
    await gw?.close().catch(() => undefined); // best effort (teardown)
    await worker.close();
    await fake.close();
    redis.disconnect();
    await db.drop();
  });

  it('runs requests concurrently and answers out of order with the right ids', async () => {
    const t0 = Date.now();
    const order: string[] = [];
    const ids = ['slow', 'medium', 'fast'];
    const sleeps = [450, 200, 10];
    const replies = await Promise.all(
      ids.map((id, i) =>
        fake.request(conn, req(id, `sleep-${sleeps[i]}`), id).then((r) => {
          order.push(id);
          return r;
        }),
      ),
    );
    assert.deepEqual(order, ['fast', 'medium', 'slow'], 'replies come back as they finish');
    replies.forEach((r, i) => {
      assert.equal(r.id, ids[i]);
      assert.equal(r.result.id, `sleep-${sleeps[i]}`);
      assert.equal(r.result.servedFor, locationId);
    });
    assert.ok(Date.now() - t0 < 450 + 350, `concurrent, not serial (${Date.now() - t0} ms)`);
    const job = jobs.find((j) => j.rpcId === 'slow')!;
    assert.equal(job.locationId, locationId);
    assert.equal(job.method, 'GetOrderByIdV1');
    assert.ok(job.fence >= 1, 'the job carries the fencing token');
    assert.ok(Math.abs(job.deadline - (t0 + DEADLINE_MS)) < 150, 'deadline = receipt + deadlineMs');
  });

  it('answers every malformed message without dropping the socket', async () => {
    const before = fake.connections.length;
    const parse = await fake.sendRaw(conn, '{"jsonrpc":"2.0","id":"p1",');
    assertErrorShape(parse, JsonRpcCode.ParseError, 'InvalidRequest');
    assert.equal(parse.id, null);

    const noId = await fake.sendRaw(conn, JSON.stringify({ jsonrpc: '2.0', method: 'GetOrderByIdV1', params: {} }));
    assertErrorShape(noId, JsonRpcCode.InvalidRequest, 'InvalidRequest');
    assert.match(noId.error.debugMessage, /id/);

    const noMethod = await fake.request(conn, { jsonrpc: '2.0', id: 'm1', params: {} }, 'm1');
    assertErrorShape(noMethod, JsonRpcCode.InvalidRequest, 'InvalidRequest');
    assert.match(noMethod.error.debugMessage, /method/);

    const notObject = await fake.sendRaw(conn, '42');
    assertErrorShape(notObject, JsonRpcCode.InvalidRequest, 'InvalidRequest');

    // A batch: one array reply, an error per element carrying that element's id (JSON-RPC 2.0); an empty one: one error.
    const batch = (await fake.sendRaw(conn, JSON.stringify([req('bt1', 'o-1'), 1, { jsonrpc: '2.0', id: 7, method: 'GetOrderByIdV1' }]))) as unknown as any[];
    assert.ok(Array.isArray(batch), JSON.stringify(batch));
    assert.deepEqual(batch.map((r) => r.id), ['bt1', null, 7]);
    for (const r of batch) assertErrorShape(r, JsonRpcCode.InvalidRequest, 'InvalidRequest');
    const empty = await fake.sendRaw(conn, '[]');
    assertErrorShape(empty, JsonRpcCode.InvalidRequest, 'InvalidRequest');
    assert.equal(empty.id, null);

    const unknown = await fake.request(conn, req('u1', 'x', 'MakeCoffeeV1'), 'u1');
    assertErrorShape(unknown, JsonRpcCode.MethodNotFound, 'InvalidRequest');

    const notEnabled = await fake.request(conn, { jsonrpc: '2.0', id: 'n1', method: 'ListAreasV1', params: { headers: {} } }, 'n1');
    assertErrorShape(notEnabled, JsonRpcCode.MethodNotFound, 'InvalidRequest');
    assert.match(notEnabled.error.debugMessage, /not enabled/);

    const badParams = await fake.request(conn, { jsonrpc: '2.0', id: 'b1', method: 'GetOrderByIdV1', params: { headers: {} } }, 'b1');
    assertErrorShape(badParams, JsonRpcCode.InvalidParams, 'InvalidRequest');
    assert.match(badParams.error.debugMessage, /params\.orderId/, 'the debugMessage names the field');

    const badType = await fake.request(conn, { jsonrpc: '2.0', id: 'b2', method: 'GetOrderByIdV1', params: { orderId: 42, headers: {} } }, 'b2');
    assertErrorShape(badType, JsonRpcCode.InvalidParams, 'InvalidRequest');
    assert.match(badType.error.debugMessage, /params\.orderId/);

    // Values the schema allows but Postgres (or JavaScript) cannot take: refused at the edge, naming the field.
    const nul = await fake.request(conn, req('v1', 'a\u0000b'), 'v1');
    assertErrorShape(nul, JsonRpcCode.InvalidParams, 'InvalidRequest');
    assert.match(nul.error.debugMessage, /params\.orderId .*NUL/);
    const lone = await fake.request(conn, req('v2', 'x\ud800'), 'v2');
    assertErrorShape(lone, JsonRpcCode.InvalidParams, 'InvalidRequest');
    assert.match(lone.error.debugMessage, /params\.orderId .*surrogate/);
    const deep = `{"jsonrpc":"2.0","id":"v3","method":"GetOrderByIdV1","params":{"orderId":"o-1","headers":{},"x":${'['.repeat(800)}${']'.repeat(800)}}}`;
    const tooDeep = await fake.request(conn, deep, 'v3');
    assertErrorShape(tooDeep, JsonRpcCode.InvalidParams, 'InvalidRequest');
    assert.match(tooDeep.error.debugMessage, /params\.x(\.0)* is nested more than 32 levels/);
    const huge = await fake.request(conn, '{"jsonrpc":"2.0","id":"v4","method":"GetOrderByIdV1","params":{"orderId":"o-1","headers":{"n":1e300}}}', 'v4');
    assertErrorShape(huge, JsonRpcCode.InvalidParams, 'InvalidRequest');
    assert.match(huge.error.debugMessage, /params\.headers\.n is out of range/);
    const nulId = await fake.request(conn, req('v5\u0000', 'o-1'), 'v5\u0000');
    assertErrorShape(nulId, JsonRpcCode.InvalidRequest, 'InvalidRequest');
    assert.match(nulId.error.debugMessage, /^id .*NUL/);

    const big = JSON.stringify(req('big1', 'x'.repeat(3000)));
    const tooBig = await fake.request(conn, big, 'big1');
    assertErrorShape(tooBig, JsonRpcCode.InvalidRequest, 'InvalidRequest');
    assert.match(tooBig.error.debugMessage, /limit/);

    const ok = await fake.request(conn, req('after-bad', 'o-1'), 'after-bad');
    assert.equal(ok.result.id, 'o-1');
    assert.equal(conn.ws.readyState, conn.ws.OPEN);
    assert.equal(fake.connections.length, before, 'no reconnect');
    for (const id of ['m1', 'u1', 'n1', 'b1', 'b2', 'big1', 'bt1', 'v1', 'v2', 'v3', 'v4', 'v5\u0000']) assert.equal(executions.get(id), undefined, `${id} never reached a worker`);
  });

  it('answers UnexpectedError at the deadline, commits nothing, and sends no late second reply', async () => {
    const t0 = Date.now();
    const reply = await fake.request(conn, req('late-1', 'sleep-1200'), 'late-1', 3_000);
    const took = Date.now() - t0;
    assertErrorShape(reply, JsonRpcCode.InternalError, 'UnexpectedError');
    assert.match(reply.error.debugMessage, /nothing was applied/);
    assert.ok(took >= DEADLINE_MS - 20 && took < DEADLINE_MS + 300, `answered at the deadline (${took} ms)`);
    await sleep(900);
    assert.equal(conn.received.filter((m: any) => m?.id === 'late-1').length, 1, 'exactly one reply');
    assert.ok(!committed.includes('late-1'), 'the worker did not commit after the deadline');
  });

  it('executes a repeated id once: joins the call in flight, then answers from recent replies', async () => {
    const a = fake.request(conn, req('dup-1', 'sleep-250'), 'dup-1');
    await sleep(30);
    conn.ws.send(JSON.stringify(req('dup-1', 'sleep-250')));
    const first = await a;
    await waitFor(() => conn.received.filter((m: any) => m?.id === 'dup-1').length === 2, 'both replies');
    const both = conn.received.filter((m: any) => m?.id === 'dup-1');
    assert.deepEqual(both[0], both[1]);
    assert.equal(executions.get('dup-1'), 1, 'one execution for two requests in flight');
    conn.ws.send(JSON.stringify(req('dup-1', 'sleep-250')));
    await waitFor(() => conn.received.filter((m: any) => m?.id === 'dup-1').length === 3, 'third reply');
    assert.deepEqual(conn.received.filter((m: any) => m?.id === 'dup-1')[2], first);
    assert.equal(executions.get('dup-1'), 1, 'recently done: same answer, no second execution');
  });

  it('applies capability changes at once, and shuts down gracefully: in-flight replies finish, 1001, lease handed back', async () => {
    await db.prisma.location.update({
      where: { id: locationId },
      data: { capabilities: ['GetOrderById', 'SearchOrders', 'ListAreas'], configVersion: { increment: 1 } },
    });
    const v = await db.prisma.location.findUniqueOrThrow({ where: { id: locationId } });
    await redis.publish(Channels.locationChanged(prefix), JSON.stringify({ locationId, configVersion: v.configVersion }));
    const enabled = await waitFor(async () => {
      const id = `la-${Math.random()}`;
      const r = await fake.request(conn, { jsonrpc: '2.0', id, method: 'ListAreasV1', params: { headers: {} } }, id);
      return r.error?.code === JsonRpcCode.MethodNotFound ? undefined : r;
    }, 'ListAreasV1 enabled', 5_000, 100);
    assert.ok(enabled.result, 'routed to the worker once the capability is on');
    assert.equal(fake.connections.length, 1, 'a capability change does not re-dial');

    assert.ok(await redis.get(leaseKey(prefix, locationId)), 'lease held while running');
    const inflight = fake.request(conn, req('shutdown-1', 'sleep-300'), 'shutdown-1', 3_000);
    // Shut down only once the request is really in flight (a worker runs it), not after a guessed delay.
    await waitFor(() => executions.get('shutdown-1'), 'shutdown-1 running on a worker', 3_000, 5);
    const closing = gw!.close();
    const reply = await inflight;
    assert.equal(reply.result.id, 'sleep-300', 'the in-flight request was answered during shutdown');
    await closing;
    gw = undefined;
    // The request records wait for their write window (REQUEST_LOG_FLUSH_MS); a graceful stop writes them first.
    const record = await readRequestLog(redis, prefix, locationId, 10);
    assert.ok(record.some((e) => e.rpcId === 'shutdown-1' && e.outcome === 'ok'), 'the last request is in the record once the replica stopped');
    await waitFor(() => conn.closedAt !== undefined, 'socket closed');
    assert.equal(conn.closeCode, 1001);
    assert.equal(await redis.get(leaseKey(prefix, locationId)), null, 'lease deleted for an immediate handover');
  });
});
