import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import type { JsonRpcResponse } from '@app/contracts';
import { isFailure, success } from '@app/contracts';
import { readRpcStreamDepth, RPC_STREAM_GROUP, RPC_TRANSPORTS, RpcClient, rpcStreamKey, RpcWorkerHost } from '@app/queue';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { GBP, resultOf, rpcJob } from './fixtures';

/** This file runs from <out>/test/integration/worker; the worker app is <out>/apps/worker/src/main.js. */
const WORKER_MAIN = join(__dirname, '..', '..', '..', 'apps', 'worker', 'src', 'main.js');
const CLAIM_IDLE_MS = 1_000;

interface Proc {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

/** Pending entries of the request stream's group, per consumer. */
async function pendingByConsumer(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const [, , , consumers] = (await redis.xpending(rpcStreamKey(prefix), RPC_STREAM_GROUP)) as [number, unknown, unknown, [string, string][] | null];
  return Object.fromEntries((consumers ?? []).map(([name, n]) => [name, Number(n)]));
}

/**
 * RPC_TRANSPORT=streams: a request delivered to a worker process that is then
 * killed (SIGKILL, so it never answers or acknowledges) is taken over by another
 * worker process after RPC_CLAIM_IDLE_MS, but only while its deadline has not
 * passed; a request a running worker is still working on is never taken over.
 * Real worker app processes, Postgres and Redis.
 */
/**
 * A streams worker with a short claim period (300 ms) whose every job takes 1.5 s, five claim periods, recording
 * `<i>:<rpcId>` in `ran` when it starts one: a job run twice shows twice.
 */
async function slowStreamsHost(prefix: string, i: number, ran: string[]): Promise<RpcWorkerHost> {
  const host = new RpcWorkerHost({
    redisUrl: testRedisUrl(),
    prefix,
    transport: 'streams',
    claimIdleMs: 300,
    concurrency: 2,
    handler: async (job) => {
      ran.push(`${i}:${job.rpcId}`);
      await sleep(1_500);
      return success(job.rpcId, { ok: true });
    },
  });
  host.start();
  await host.waitUntilReady();
  return host;
}

describe('rpc streams: a killed worker\'s requests are claimed by another, never past their deadline', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let loc: LocationFixture;
  let redis: Redis;
  let client: RpcClient;
  const prefix = uniquePrefix('rpcclaim');
  const procs: Proc[] = [];

  const startWorker = async (): Promise<Proc> => {
    const env = appEnv(db, { QUEUE_PREFIX: prefix, RPC_TRANSPORT: 'streams', RPC_CLAIM_IDLE_MS: String(CLAIM_IDLE_MS), WORKER_CONCURRENCY: '4', DB_POOL_SIZE: '3', LOG_LEVEL: 'info' });
    const child = spawn(process.execPath, ['--enable-source-maps', WORKER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    child.stdout.on('data', (d) => out.push(String(d)));
    child.stderr.on('data', (d) => out.push(String(d)));
    const p = { child, out, exited: new Promise<number | null>((r) => child.on('close', (code) => r(code))) };
    procs.push(p);
    await waitFor(() => out.join('').includes('rpc worker ready'), `worker ${child.pid} ready:\n${out.join('')}`, 30_000);
    return p;
  };

  /**
   * Freezes a worker, lets Redis hand it the next request (its XREADGROUP is blocked at Redis), then kills it. A
   * worker stopped in the instant between two blocking reads (one ended empty, the next not sent yet) has none
   * blocked, and nothing reads the request while no other worker runs (a rare flake, seen once in a full suite).
   * Then the test reads one entry itself under a consumer that never answers, which leaves Redis as the blocked read
   * would have: one entry pending for a dead consumer, the rest not delivered.
   */
  const killHolding = async (w: Proc, send: () => Promise<JsonRpcResponse>[]): Promise<Promise<JsonRpcResponse>[]> => {
    w.child.kill('SIGSTOP');
    const calls = send();
    const held = async () => Object.values(await pendingByConsumer(redis, prefix)).reduce((a, b) => a + b, 0) >= 1 || undefined;
    const heldInTime = await waitFor(held, 'the frozen worker holds a request', 2_500).catch(() => undefined);
    if (!heldInTime) {
      // Read one, as the worker's blocked read would have, under a consumer name that dies with it (a blocked read that
      // was never served does not make its consumer known to Redis, so the worker's own name cannot be read back).
      await redis.xreadgroup('GROUP', RPC_STREAM_GROUP, `stand-in-for-${w.child.pid}`, 'COUNT', 1, 'STREAMS', rpcStreamKey(prefix), '>');
      await waitFor(held, 'the frozen worker holds a request', 2_000);
    }
    w.child.kill('SIGKILL');
    await w.exited;
    return calls;
  };

  const pay = (orderId: string, pi: string, deadlineMs: number) =>
    client.call(rpcJob(loc.id, 'RecordOrderPaymentByIdV1', { orderId, paymentIntentId: pi, paidAmount: GBP(1_000) }, { rpcId: `claim-${pi}`, deadline: Date.now() + deadlineMs }));

  before(async () => {
    db = await createTestDatabase('rpc_claim');
    fx = fixtures(db.prisma);
    loc = await fx.location({ name: 'Claim Venue' });
    redis = createRedis(testRedisUrl());
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'claim-gw', transport: 'streams' });
    await client.start();
  });

  after(async () => {
    await client?.close();
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await redis?.del(rpcStreamKey(prefix));
    redis?.disconnect();
    await db?.drop();
  });

  it('a request held by a killed worker is run by another worker within its deadline, once; the queue depth counts it meanwhile', async () => {
    await fx.order(loc.id, { id: 'CLAIM-1', total: 5_000 });
    const first = await startWorker();
    const [held, waiting] = await killHolding(first, () => [pay('CLAIM-1', 'pi_held', 20_000), pay('CLAIM-1', 'pi_waiting', 20_000)]);
    // One entry delivered to the dead consumer (pending), one never delivered (lag): both are backlog for KEDA.
    const depth = await readRpcStreamDepth(redis, prefix);
    assert.equal(depth.pending + depth.lag, 2, JSON.stringify(depth));
    assert.equal(depth.pending, 1, JSON.stringify(depth));
    const t0 = Date.now();
    await startWorker();
    const [a, b] = await Promise.all([held!, waiting!]);
    assert.ok([1_000, 2_000].includes(resultOf(a).paidAmount.value));
    assert.ok([1_000, 2_000].includes(resultOf(b).paidAmount.value));
    assert.ok(Date.now() - t0 < 15_000, 'taken over within a few claim periods');
    assert.equal(await db.prisma.payment.count({ where: { locationId: loc.id, orderId: 'CLAIM-1' } }), 2);
    // Answered entries are acknowledged and deleted: nothing pending, the stream empty.
    await waitFor(async () => (await redis.xlen(rpcStreamKey(prefix))) === 0, 'stream emptied', 5_000);
    assert.deepEqual(await readRpcStreamDepth(redis, prefix), { lag: 0, pending: 0, oldestWaitingSeconds: 0 });
  });

  it('a held request whose deadline passed before it was claimed is not run, and is removed from the stream', async () => {
    await fx.order(loc.id, { id: 'CLAIM-2', total: 5_000 });
    const [alive] = procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    assert.ok(alive);
    const [late] = await killHolding(alive, () => [pay('CLAIM-2', 'pi_late', 400)]);
    const res = await late!;
    assert.ok(isFailure(res), 'the gateway answered at the deadline');
    await startWorker();
    await waitFor(async () => (await redis.xlen(rpcStreamKey(prefix))) === 0, 'the late entry is claimed, refused and deleted', 15_000);
    assert.deepEqual(await pendingByConsumer(redis, prefix), {});
    assert.equal(await db.prisma.payment.count({ where: { locationId: loc.id, orderId: 'CLAIM-2' } }), 0, 'never run past its deadline');
  });
});

describe('rpc streams: a long job is not taken over while its worker runs it', () => {
  const prefix = uniquePrefix('rpclong');
  const ran: string[] = [];
  const hosts: RpcWorkerHost[] = [];
  let client: RpcClient;

  before(async () => {
    for (let i = 0; i < 2; i++) hosts.push(await slowStreamsHost(prefix, i, ran));
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'long-gw', transport: 'streams' });
    await client.start();
  });

  after(async () => {
    await client?.close();
    for (const h of hosts) await h.close();
  });

  it('runs once', async () => {
    const res = await client.call(rpcJob('00000000-0000-4000-8000-0000000010a9', 'SearchOrdersV1', {}, { rpcId: 'long-1', deadline: Date.now() + 10_000 }));
    assert.ok(!isFailure(res), JSON.stringify(res));
    await sleep(600); // a claim tick of each host after the answer
    assert.equal(ran.length, 1, ran.join());
  });
});

describe('rpc streams: a stopping worker keeps its running jobs from being taken over', () => {
  const prefix = uniquePrefix('rpcstop');
  const ran: string[] = [];
  const hosts: RpcWorkerHost[] = [];
  let client: RpcClient;

  /** Its jobs' five claim periods pass while the worker is closing. */
  const startHost = async (i: number) => {
    const host = await slowStreamsHost(prefix, i, ran);
    hosts.push(host);
    return host;
  };

  before(async () => {
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'stop-gw', transport: 'streams' });
    await client.start();
  });

  after(async () => {
    await client?.close();
    for (const h of hosts) await h.close();
  });

  it('runs once: the job finishes on the closing worker and the other worker does not run it again', async () => {
    const first = await startHost(0);
    const call = client.call(rpcJob('00000000-0000-4000-8000-0000000010ab', 'SearchOrdersV1', {}, { rpcId: 'stop-1', deadline: Date.now() + 10_000 }));
    await waitFor(() => ran.length === 1, 'the job runs on the first worker', 5_000);
    await startHost(1);
    const closed = first.close();
    const res = await call;
    assert.ok(!isFailure(res), JSON.stringify(res));
    await closed;
    await sleep(600); // claim ticks of the other worker after the answer
    assert.deepEqual(ran, ['0:stop-1']);
  });
});

for (const transport of RPC_TRANSPORTS) describe(`rpc worker: close() lets jobs in flight finish and answer [${transport}]`, () => {
  const prefix = uniquePrefix('rpcdrain');
  let started = 0;
  let host: RpcWorkerHost;
  let client: RpcClient;

  before(async () => {
    host = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      concurrency: 4,
      handler: async (job) => {
        started++;
        await sleep(700);
        return success(job.rpcId, { drained: true });
      },
    });
    host.start();
    await host.waitUntilReady();
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'drain-gw', transport });
    await client.start();
  });

  after(async () => {
    await client?.close();
  });

  it('answers every request it had started before closing', async () => {
    const calls = [1, 2, 3].map((i) => client.call(rpcJob('00000000-0000-4000-8000-0000000010aa', 'SearchOrdersV1', {}, { rpcId: `drain-${i}`, deadline: Date.now() + 10_000 })));
    await waitFor(() => started === 3, 'three jobs running', 5_000);
    let closed = false;
    const closing = host.close().then(() => (closed = true));
    const answers = await Promise.all(calls);
    for (const a of answers) assert.deepEqual((a as { result: unknown }).result, { drained: true });
    await closing;
    assert.ok(closed);
  });
});

for (const transport of RPC_TRANSPORTS) describe(`rpc worker: a reply that fails while the worker closes is tried again [${transport}]`, () => {
  const prefix = uniquePrefix('rpcdrainretry');
  let started = 0;
  let redis: Redis;
  let host: RpcWorkerHost;
  let client: RpcClient;

  before(async () => {
    redis = createRedis(testRedisUrl());
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'drain-retry-gw', transport });
    await client.start();
    host = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      concurrency: 2,
      handler: async (job) => {
        started++;
        await sleep(500);
        // The reply's first XADD fails (the reply stream's key holds a string, as a write refused during a failover
        // would); the key is freed a little later, in time for a retry.
        setTimeout(() => void redis.del(client.replyTo), 300);
        return success(job.rpcId, { drained: true });
      },
    });
    host.start();
    await host.waitUntilReady();
  });

  after(async () => {
    await client?.close();
    await redis?.del(client.replyTo);
    redis?.disconnect();
  });

  it('the answer reaches the gateway', async () => {
    await redis.set(client.replyTo, 'not a stream');
    const call = client.call(rpcJob('00000000-0000-4000-8000-0000000010ac', 'SearchOrdersV1', {}, { rpcId: 'drain-retry-1', deadline: Date.now() + 4_000 }));
    await waitFor(() => started === 1, 'the job runs', 5_000);
    const closing = host.close();
    const res = await call;
    assert.deepEqual((res as { result: unknown }).result, { drained: true }, JSON.stringify(res));
    await closing;
  });
});
