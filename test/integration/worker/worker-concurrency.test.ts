import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { JsonRpcResponse } from '@app/contracts';
import { isFailure } from '@app/contracts';
import { RpcClient, RPC_TRANSPORTS } from '@app/queue';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { call, errorOf, GBP, resultOf } from './fixtures';

/** This file runs from <out>/test/integration/worker; the worker app is <out>/apps/worker/src/main.js. */
const WORKER_MAIN = join(__dirname, '..', '..', '..', 'apps', 'worker', 'src', 'main.js');
const PROCESSES = 3;

interface Proc {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

for (const transport of RPC_TRANSPORTS) describe(`worker: races on one order across several worker processes [${transport}]`, () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let client: RpcClient;
  let loc: LocationFixture;
  const procs: Proc[] = [];
  const future = (ms: number) => new Date(Date.now() + ms).toISOString();

  before(async () => {
    db = await createTestDatabase('worker_race');
    fx = fixtures(db.prisma);
    loc = await fx.location({ name: 'Race Venue' });
    const prefix = uniquePrefix('worker-race');
    for (let i = 0; i < PROCESSES; i++) {
      const env = appEnv(db, { QUEUE_PREFIX: prefix, RPC_TRANSPORT: transport, WORKER_CONCURRENCY: '6', DB_POOL_SIZE: '4', LOG_LEVEL: 'info' });
      const child = spawn(process.execPath, ['--enable-source-maps', WORKER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: string[] = [];
      child.stdout.on('data', (d) => out.push(String(d)));
      child.stderr.on('data', (d) => out.push(String(d)));
      // 'close', not 'exit': 'exit' can come before the last stdout data is read (the SIGTERM test then missed 'rpc worker closed').
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      procs.push({ child, out, exited });
    }
    // Listening is the end of the start (the queue workers are ready before it).
    for (const p of procs) await waitFor(() => p.out.join('').includes('"worker listening"'), `worker process ${p.child.pid} started:\n${p.out.join('')}`, 30_000);
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, transport, replicaId: 'race-gw' });
    await client.start();
  });

  after(async () => {
    await client?.close();
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await db?.drop();
  });

  const pay = (orderId: string, paymentIntentId: string, value: number, rpcId?: string) =>
    call(client, loc.id, 'RecordOrderPaymentByIdV1', { orderId, paymentIntentId, paidAmount: GBP(value) }, rpcId ? { rpcId } : {});

  it('parallel payments never overpay and never lose an update', async () => {
    await fx.order(loc.id, { id: 'RACE-1', total: 10_000 });
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => pay('RACE-1', `pi_race_${i}`, 1_000)));
    const ok = results.filter((r) => !isFailure(r));
    const refused = results.filter((r) => isFailure(r));
    assert.equal(ok.length, 10);
    assert.equal(refused.length, 14);
    for (const r of refused) errorOf(r, 'Conflict');
    const order = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'RACE-1' } } });
    assert.equal(order.paidAmount, 10_000n);
    assert.equal(order.payable, false);
    assert.equal(await db.prisma.payment.count({ where: { locationId: loc.id, orderId: 'RACE-1' } }), 10);
    assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: loc.id, entityId: 'RACE-1', kind: 'payment.recorded' } }), 10);
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: loc.id, entityId: 'RACE-1' } }), 10);
    // Every successful answer saw a strictly larger paid amount: each one applied on top of the previous.
    const seen = ok.map((r) => resultOf(r).paidAmount.value).sort((a: number, b: number) => a - b);
    assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => (i + 1) * 1_000));
  });

  it('uneven parallel payments add up exactly to what was accepted', async () => {
    await fx.order(loc.id, { id: 'RACE-2', total: 7_777 });
    const amounts = Array.from({ length: 20 }, (_, i) => 300 + ((i * 397) % 900));
    const results = await Promise.all(amounts.map((v, i) => pay('RACE-2', `pi_uneven_${i}`, v)));
    const accepted = results.reduce((sum, r, i) => sum + (isFailure(r) ? 0 : amounts[i]!), 0);
    const order = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'RACE-2' } } });
    assert.ok(accepted <= 7_777);
    assert.equal(Number(order.paidAmount), accepted);
    const sum = await db.prisma.payment.aggregate({ where: { locationId: loc.id, orderId: 'RACE-2' }, _sum: { paidAmount: true } });
    assert.equal(Number(sum._sum.paidAmount), accepted);
  });

  it('the same payment intent racing with itself is recorded once', async () => {
    await fx.order(loc.id, { id: 'RACE-3', total: 5_000 });
    const results = await Promise.all(Array.from({ length: 8 }, () => pay('RACE-3', 'pi_twin', 1_500)));
    for (const r of results) assert.equal(resultOf(r).paidAmount.value, 1_500);
    assert.equal(await db.prisma.payment.count({ where: { locationId: loc.id, orderId: 'RACE-3' } }), 1);
    // The same JSON-RPC id racing with itself: executed once, every answer identical.
    const same = await Promise.all(Array.from({ length: 6 }, () => pay('RACE-3', 'pi_twin_2', 500, 'dojo-rpc-twin')));
    for (const r of same) assert.deepEqual(r, same[0]);
    assert.equal(resultOf(same[0] as JsonRpcResponse).paidAmount.value, 2_000);
    assert.equal(await db.prisma.processedRequest.count({ where: { locationId: loc.id, rpcId: 'dojo-rpc-twin' } }), 1);
    assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: loc.id, entityId: 'RACE-3' } }), 2);
  });

  it('lock races: exactly one lock wins; payments under a losing lock are refused', async () => {
    await fx.order(loc.id, { id: 'RACE-4', total: 4_000 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(client, loc.id, 'CreateOrderLockV1', { orderId: 'RACE-4', lockId: `lock-${i}`, expiry: future(60_000) })),
    );
    const winners = results.map((r, i) => (isFailure(r) ? -1 : i)).filter((i) => i >= 0);
    assert.equal(winners.length, 1);
    for (const r of results) if (isFailure(r)) errorOf(r, 'Conflict');
    const lock = await db.prisma.orderLock.findFirstOrThrow({ where: { locationId: loc.id, orderId: 'RACE-4' } });
    assert.equal(lock.lockId, `lock-${winners[0]}`);
    const winner = `lock-${winners[0]}`;
    const loser = `lock-${(winners[0]! + 1) % 10}`;
    const [a, b] = await Promise.all([
      call(client, loc.id, 'RecordOrderPaymentByIdV1', { orderId: 'RACE-4', paymentIntentId: 'pi_lock_a', paidAmount: GBP(4_000), lockId: winner }),
      call(client, loc.id, 'RecordOrderPaymentByIdV1', { orderId: 'RACE-4', paymentIntentId: 'pi_lock_b', paidAmount: GBP(4_000), lockId: loser }),
    ]);
    assert.equal(resultOf(a).paidAmount.value, 4_000);
    errorOf(b, 'Conflict');
    // Release and re-lock races: release by the winner and a new lock in parallel end consistent.
    const [rel, ...relock] = await Promise.all([
      call(client, loc.id, 'DeleteOrderLockV1', { orderId: 'RACE-4', lockId: winner }),
      ...Array.from({ length: 4 }, (_, i) => call(client, loc.id, 'CreateOrderLockV1', { orderId: 'RACE-4', lockId: `again-${i}`, expiry: future(60_000) })),
    ]);
    resultOf(rel);
    const now = await db.prisma.orderLock.findFirst({ where: { locationId: loc.id, orderId: 'RACE-4' } });
    const relockWinners = relock.filter((r) => !isFailure(r)).length;
    assert.ok(relockWinners <= 1);
    assert.equal(now ? 1 : 0, relockWinners, 'a lock row exists exactly when one re-lock succeeded');
  });

  it('worker processes shut down gracefully on SIGTERM', async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => p.exited));
    for (const [i, p] of procs.entries()) {
      assert.ok(p.out.join('').includes('rpc worker closed'), `process ${i} closed its queue worker:\n${p.out.join('').slice(-2000)}`);
      assert.notEqual(codes[i], 1);
    }
  });
});
