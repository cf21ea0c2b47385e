import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, workerEnv } from '@app/config';
import { createRedis } from '@app/common';
import { JobEnqueuer, JobName, QueueName, RPC_STREAM_GROUP, rpcStreamKey } from '@app/queue';
import type { TestDatabase} from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { WorkerMetricsService } from '../../../apps/worker/src/worker-metrics.service';
import { startWorker } from '../../../apps/worker/src/main';

/**
 * The worker's scrape-time readers, on their own (no queue worker consumes
 * here, so jobs stay where they are put): job counts and the oldest waiting
 * job per catalog queue from Redis, and the events/outbox backlog from Postgres.
 */
describe('worker metrics: what the queue and backlog gauges read', () => {
  let db: TestDatabase;
  let jobs: JobEnqueuer;
  let svc: WorkerMetricsService;
  const prefix = uniquePrefix('wkmetrics');

  before(async () => {
    db = await createTestDatabase('wkmetrics');
    const config = loadConfig(workerEnv, appEnv(db, { QUEUE_PREFIX: prefix }));
    svc = new WorkerMetricsService(config, db.prisma);
    jobs = new JobEnqueuer({ redisUrl: testRedisUrl(), prefix });
  });

  after(async () => {
    for (const q of Object.values(QueueName)) await jobs.queue(q).obliterate({ force: true }).catch(() => undefined);
    await jobs?.close();
    await svc?.onApplicationShutdown();
    await db?.drop();
  });

  it('counts jobs per state and ages the oldest waiting job of every catalog queue', async () => {
    const empty = await svc.readQueues();
    assert.deepEqual(Object.keys(empty).sort(), Object.values(QueueName).sort());
    for (const q of Object.values(empty)) {
      assert.equal(q.oldestWaitingSeconds, 0);
      assert.equal(q.counts.waiting, 0);
    }
    await jobs.add(JobName.ApplyDojoEvent, { eventRowId: 'e-1' }, { jobId: 'e-1' });
    await new Promise((r) => setTimeout(r, 1_200));
    await jobs.add(JobName.ApplyDojoEvent, { eventRowId: 'e-2' }, { jobId: 'e-2' });
    await jobs.add(JobName.RegisterCapabilities, { locationId: 'l-1' }, { jobId: 'r-1', delay: 600_000 });
    const snap = await svc.readQueues();
    const ev = snap[QueueName.DojoEvents]!;
    assert.equal(ev.counts.waiting, 2);
    assert.ok(ev.oldestWaitingSeconds >= 1.1 && ev.oldestWaitingSeconds < 30, `the first job's age: ${ev.oldestWaitingSeconds}`);
    const reg = snap[QueueName.Registration]!;
    assert.equal(reg.counts.delayed, 1);
    assert.equal(reg.oldestWaitingSeconds, 0, 'a delayed job is not waiting');
    assert.equal(snap[QueueName.Rpc]!.counts.waiting, 0);
  });

  it('reads pending Dojo events and outbox rows, with the age of the oldest, and refused outbox rows', async () => {
    const none = await svc.readBacklog();
    assert.deepEqual(none, { eventsPending: { received: 0, queued: 0, pending_payment: 0 }, eventsOldestPendingSeconds: 0, outboxPending: 0, outboxOldestPendingSeconds: 0, deadLetters: { 'dojo-event': 0, 'pos-event': 0, registration: 0 } });
    const loc = await fixtures(db.prisma).location();
    const old = new Date(Date.now() - 120_000);
    const ev = (eventId: string, state: 'received' | 'queued' | 'applied' | 'pending_payment', receivedAt: Date) =>
      db.prisma.dojoEvent.create({
        data: { locationId: loc.id, dojoAccountId: loc.dojoAccountId, eventId, eventType: 'payment_intent.status_updated', occurredAt: receivedAt, channel: 'webhook', payload: {}, state, receivedAt },
      });
    await ev('e1', 'received', old);
    await ev('e2', 'pending_payment', new Date(Date.now() - 3_600_000));
    await ev('e4', 'queued', new Date());
    await ev('e3', 'applied', new Date(Date.now() - 3_600_000));
    const ob = (entityId: string, state: 'pending' | 'sent' | 'dead', createdAt: Date) =>
      db.prisma.outboxEvent.create({ data: { locationId: loc.id, eventType: 'OrderUpdated', entityType: 'order', entityId, payload: {}, state, createdAt } });
    await ob('o1', 'pending', new Date(Date.now() - 60_000));
    await ob('o2', 'sent', new Date(Date.now() - 3_600_000));
    await ob('o3', 'dead', new Date());
    const b = await svc.readBacklog();
    assert.deepEqual(b.eventsPending, { received: 1, queued: 1, pending_payment: 1 });
    // The hour-old event waiting for its payment does not count in the age: the oldest on its way is 2 minutes old.
    assert.ok(b.eventsOldestPendingSeconds >= 119 && b.eventsOldestPendingSeconds < 200, `events age ${b.eventsOldestPendingSeconds}`);
    assert.equal(b.outboxPending, 1);
    assert.ok(b.outboxOldestPendingSeconds >= 59 && b.outboxOldestPendingSeconds < 120, `outbox age ${b.outboxOldestPendingSeconds}`);
    assert.deepEqual(b.deadLetters, { 'dojo-event': 0, 'pos-event': 1, registration: 0 });
  });

  it('GET /metrics/queue-depth: waiting plus prioritized jobs per queue and in all (what KEDA scales on), behind METRICS_TOKEN', async () => {
    const depthPrefix = uniquePrefix('wkdepth');
    const q = new JobEnqueuer({ redisUrl: testRedisUrl(), prefix: depthPrefix });
    // Paused queues keep their jobs where they are put while the app's queue workers run.
    for (const name of Object.values(QueueName)) await q.queue(name).pause();
    for (let i = 0; i < 2; i++) await q.add(JobName.ApplyDojoEvent, { eventRowId: `w-${i}` }, { jobId: `w-${i}` });
    for (let i = 0; i < 3; i++) await q.add(JobName.ApplyDojoEvent, { eventRowId: `p-${i}` }, { jobId: `p-${i}`, priority: 5 });
    await q.add(JobName.RegisterCapabilities, { locationId: 'l-1' }, { jobId: 'd-1', delay: 600_000 });
    const token = 'queue-depth-token-0001';
    const app = await startWorker(appEnv(db, { QUEUE_PREFIX: depthPrefix, METRICS_TOKEN: token, DOJO_API_URL: 'http://127.0.0.1:9' }));
    try {
      assert.equal((await fetch(`${app.url}/metrics/queue-depth`)).status, 401);
      const res = await fetch(`${app.url}/metrics/queue-depth`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { depth: number; queues: Record<string, { waiting: number; prioritized: number; depth: number }> };
      assert.deepEqual(body.queues[QueueName.DojoEvents], { waiting: 2, prioritized: 3, depth: 5 });
      // (The app itself schedules the registration of the location an earlier test created: that one counts too.)
      assert.equal(body.queues[QueueName.Registration]!.prioritized, 0, 'a delayed job is not backlog');
      assert.equal(body.depth, Object.values(body.queues).reduce((n, x) => n + x.depth, 0));
    } finally {
      await app.close();
      for (const name of Object.values(QueueName)) await q.queue(name).obliterate({ force: true }).catch(() => undefined); // best effort (teardown)
      await q.close();
    }
  });

  it('RPC_TRANSPORT=streams: the RPC queue reads the stream (waiting = lag, active = pending), and its depth counts both', async () => {
    const streamPrefix = uniquePrefix('wkstream');
    const redis = createRedis(testRedisUrl());
    const key = rpcStreamKey(streamPrefix);
    const streams = new WorkerMetricsService(loadConfig(workerEnv, appEnv(db, { QUEUE_PREFIX: streamPrefix, RPC_TRANSPORT: 'streams' })), db.prisma);
    try {
      await redis.xgroup('CREATE', key, RPC_STREAM_GROUP, '0', 'MKSTREAM');
      for (let i = 0; i < 3; i++) await redis.xadd(key, '*', 'j', `job-${i}`, 'd', '{}');
      // A consumer that took one entry and died: it stays pending until another worker claims it.
      await redis.xreadgroup('GROUP', RPC_STREAM_GROUP, 'ghost', 'COUNT', 1, 'STREAMS', key, '>');
      const rpc = (await streams.readQueues())[QueueName.Rpc]!;
      assert.deepEqual(rpc.counts, { waiting: 2, active: 1 });
      assert.ok(rpc.oldestWaitingSeconds >= 0 && rpc.oldestWaitingSeconds < 60);
      // The app's own consumer takes (and drops, unreadable) the two waiting entries; the ghost's stays pending.
      const token = 'queue-depth-token-0002';
      const app = await startWorker(appEnv(db, { QUEUE_PREFIX: streamPrefix, RPC_TRANSPORT: 'streams', METRICS_TOKEN: token, DOJO_API_URL: 'http://127.0.0.1:9' }));
      try {
        await waitFor(async () => (await redis.xlen(key)) === 1, 'waiting entries consumed', 10_000);
        const res = await fetch(`${app.url}/metrics/queue-depth`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { queues: Record<string, { waiting: number; prioritized: number; depth: number }> };
        assert.deepEqual(body.queues[QueueName.Rpc], { waiting: 0, prioritized: 0, depth: 1 });
      } finally {
        await app.close();
      }
    } finally {
      await streams.onApplicationShutdown();
      await redis.del(key);
      redis.disconnect();
    }
  });
});
