import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { createLogger } from '@app/common';
import { DojoEventsSweeper } from '@app/domain/events/dojo-events-sweeper';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { dojoEventFactsOf, DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { rawOnPg } from '@app/domain/repositories/unit-of-work';
import type { DojoEventsPayload } from '@app/queue';
import { BullmqEventEnqueuer, DojoEventsWorker, eventsOfJob, QueueName, queuePrefix } from '@app/queue';
import type { LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { eventPayload } from './fixtures';

/**
 * The sweeper re-queues the stored events that never reached Redis, not the ones still waiting in a lagging queue:
 * a 'received' row is stale against the queue's oldest job, so a backlog is not fed a second job for each of its
 * rows, and a row whose enqueue was lost is still enqueued once the queue has gone past where its job would be.
 */
describe('Dojo events sweeper: a lagging queue is not fed again', () => {
  let db: TestDatabase;
  let loc: LocationFixture;
  const logger = createLogger('sweeper-backlog-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    db = await createTestDatabase('sweeper-backlog');
    loc = await fixtures(db.prisma).location();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await db?.drop();
  });

  const store = async (name: string) => {
    const payload = eventPayload(loc.dojoAccountId, `evt_${name}`, 'payment_intent.status_updated', undefined, undefined, new Date());
    const row = await new DojoEventsRepository(rawOnPg(db.prisma)).store(loc.id, payload, 'webhook', new Date());
    return { eventRowId: row!.id, facts: dojoEventFactsOf(loc.id, payload) };
  };
  const state = async (id: string) => (await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id }, select: { state: true } })).state as string;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('leaves the rows of a job still waiting alone, and enqueues a row whose enqueue was lost', async () => {
    const prefix = uniquePrefix('swbl');
    const queue = new Queue<DojoEventsPayload>(QueueName.DojoEvents, { connection: { url: testRedisUrl() }, prefix: queuePrefix(prefix, QueueName.DojoEvents) });
    closers.push(() => queue.close());
    const enqueuer = new BullmqEventEnqueuer({ redisUrl: testRedisUrl(), prefix });
    closers.push(() => enqueuer.close());
    const carried = async () => (await queue.getJobs(['waiting', 'active', 'delayed'])).flatMap((j) => eventsOfJob(j.data).map((e) => e.eventRowId)).sort();

    // A row whose enqueue never reached Redis, stored before the backlog.
    const lost = await store('lost_early');
    await db.prisma.$executeRaw`UPDATE dojo_events SET received_at = now() - interval '30 seconds' WHERE location_id = ${loc.id}::uuid AND id = ${lost.eventRowId}::uuid`;
    // Two rows enqueued together (one job of two, BullMQ's own id), which no worker consumes: the queue lags.
    const a = await store('waiting_a');
    const b = await store('waiting_b');
    await Promise.all([enqueuer.enqueue(a.eventRowId, a.facts), enqueuer.enqueue(b.eventRowId, b.facts)]);
    // A row stored after that job whose enqueue was lost as well.
    const late = await store('lost_late');
    assert.deepEqual(await carried(), [a.eventRowId, b.eventRowId].sort());

    const staleAfterMs = 300;
    await sleep(3 * staleAfterMs); // every row is older than EVENTS_SWEEP_AFTER_MS by the clock
    const sweeper = new DojoEventsSweeper(new DojoEventsRepository(rawOnPg(db.prisma)), enqueuer, logger, { intervalMs: 60_000, staleAfterMs });
    assert.equal(await sweeper.sweepOnce(), 1, 'only the row stored before the waiting job');
    assert.deepEqual(await carried(), [a.eventRowId, b.eventRowId, lost.eventRowId].sort(), 'the waiting rows are not queued a second time');
    await sweeper.sweepOnce();
    await sweeper.sweepOnce();
    assert.deepEqual(await carried(), [a.eventRowId, b.eventRowId, lost.eventRowId].sort(), 'nor by later sweeps');

    // A job stuck in the queue holds its rows back for maxHoldMs at most.
    const impatient = new DojoEventsSweeper(new DojoEventsRepository(rawOnPg(db.prisma)), { enqueue: async () => undefined, oldestJobAddedAt: () => enqueuer.oldestJobAddedAt() }, logger, {
      intervalMs: 60_000,
      staleAfterMs,
      maxHoldMs: 2 * staleAfterMs,
    });
    assert.equal(await impatient.sweepOnce(), 4, 'past maxHoldMs every received row is enqueued again');

    // The queue catches up: the row stored after the waiting job is enqueued once the queue has gone past it.
    const worker = new DojoEventsWorker({ redisUrl: testRedisUrl(), prefix, concurrency: 2 }, new ApplyDojoEvent(db.prisma, logger), logger);
    closers.push(() => worker.close());
    worker.start();
    await worker.waitUntilReady();
    for (const r of [a, b, lost]) await waitFor(async () => (await state(r.eventRowId)) === 'applied', `row ${r.eventRowId} applied`, 15_000, 50);
    await waitFor(async () => (await carried()).length === 0, 'the queue drained', 10_000, 50);
    assert.equal(await state(late.eventRowId), 'received');
    assert.equal(await sweeper.sweepOnce(), 1, 'the lost row stored after the backlog');
    await waitFor(async () => (await state(late.eventRowId)) === 'applied', 'the lost row applied', 15_000, 50);
  });
});
