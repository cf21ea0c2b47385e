import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { createLogger } from '@app/common';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { dojoEventFactsOf, DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { rawOnPg } from '@app/domain/repositories/unit-of-work';
import type { DojoEventApplier, DojoEventsPayload } from '@app/queue';
import { BullmqEventEnqueuer, DojoEventsWorker, eventsOfJob, MAX_EVENTS_PER_JOB, QueueName, queuePrefix } from '@app/queue';
import type { LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { eventPayload } from './fixtures';

/**
 * The events queue carries the rows an enqueuer was asked for in one turn in one job (one pass through BullMQ's
 * scripts for all of them), and the events worker applies a job's events together and says what became of each.
 */
describe('Dojo events queue: the rows of one turn in one job', () => {
  let db: TestDatabase;
  let loc: LocationFixture;
  const logger = createLogger('events-queue-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const at = new Date('2026-12-01T12:00:00.000Z');
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    db = await createTestDatabase('events-queue');
    loc = await fixtures(db.prisma).location();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await db?.drop();
  });

  const queueOn = (prefix: string) => {
    const q = new Queue<DojoEventsPayload>(QueueName.DojoEvents, { connection: { url: testRedisUrl() }, prefix: queuePrefix(prefix, QueueName.DojoEvents) });
    closers.push(() => q.close());
    return q;
  };
  const enqueuerOn = (prefix: string) => {
    const e = new BullmqEventEnqueuer({ redisUrl: testRedisUrl(), prefix });
    closers.push(() => e.close());
    return e;
  };
  const workerOn = async (prefix: string, apply: DojoEventApplier) => {
    const w = new DojoEventsWorker({ redisUrl: testRedisUrl(), prefix, concurrency: 2 }, apply, logger);
    closers.push(() => w.close());
    w.start();
    await w.waitUntilReady();
    return w;
  };
  const store = async (id: string, paymentIntentId: string | undefined) => {
    const payload = eventPayload(loc.dojoAccountId, id, 'payment_intent.status_updated', paymentIntentId, 'Authorized', at);
    const row = await new DojoEventsRepository(rawOnPg(db.prisma)).store(loc.id, payload, 'webhook', at);
    return { eventRowId: row!.id, facts: dojoEventFactsOf(loc.id, payload) };
  };
  const state = async (id: string) => (await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id }, select: { state: true } })).state as string;

  it('the rows asked for in one turn travel in one job (at most MAX_EVENTS_PER_JOB each), and every one is applied', async () => {
    const prefix = uniquePrefix('evq1');
    const queue = queueOn(prefix);
    const enqueuer = enqueuerOn(prefix);
    const events = await Promise.all(Array.from({ length: MAX_EVENTS_PER_JOB + 3 }, (_, i) => store(`evq-turn-${i}`, i % 5 === 0 ? undefined : `pi_evq_${i % 7}`)));
    await Promise.all(events.map((e) => enqueuer.enqueue(e.eventRowId, e.facts)));
    const jobs = await queue.getJobs(['waiting']);
    const carried = jobs.map((j) => eventsOfJob(j.data).length).sort((a, b) => b - a);
    assert.deepEqual(carried, [MAX_EVENTS_PER_JOB, 3], 'two jobs for one turn: a full one and the rest');
    assert.deepEqual(
      jobs.flatMap((j) => eventsOfJob(j.data)).map((e) => e.eventRowId).sort(),
      events.map((e) => e.eventRowId).sort(),
      'each row in a job once, with its facts',
    );
    assert.ok(jobs.flatMap((j) => eventsOfJob(j.data)).every((e) => e.facts?.locationId === loc.id));

    await workerOn(prefix, new ApplyDojoEvent(db.prisma, logger));
    for (const e of events) {
      const want = e.facts.paymentIntentId === null ? 'applied' : 'pending_payment'; // no payment recorded for the intents
      await waitFor(async () => (await state(e.eventRowId)) === want, `row ${e.eventRowId} ${want}`, 15_000, 50);
    }
    await waitFor(async () => (await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')).waiting === 0, 'the queue drained', 10_000, 50);
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0, failed: 0 });
  });

  it('with lingerMs, rows asked for within that time of the first share its job', async () => {
    const prefix = uniquePrefix('evq4');
    const queue = queueOn(prefix);
    const enqueuer = new BullmqEventEnqueuer({ redisUrl: testRedisUrl(), prefix, lingerMs: 150 });
    closers.push(() => enqueuer.close());
    const [a, b, c] = await Promise.all([store('evq-linger-a', 'pi_evq_la'), store('evq-linger-b', 'pi_evq_lb'), store('evq-linger-c', 'pi_evq_lc')]);
    const first = enqueuer.enqueue(a.eventRowId, a.facts);
    await new Promise((r) => setTimeout(r, 30)); // several turns later, within the linger
    const second = enqueuer.enqueue(b.eventRowId, b.facts);
    assert.equal((await queue.getJobs(['waiting'])).length, 0, 'nothing sent while the first row lingers');
    await Promise.all([first, second]);
    const jobs = await queue.getJobs(['waiting']);
    assert.deepEqual(jobs.map((j) => eventsOfJob(j.data).map((e) => e.eventRowId)), [[a.eventRowId, b.eventRowId]], 'one job for both');
    await enqueuer.enqueue(c.eventRowId, c.facts);
    assert.equal((await queue.getJobs(['waiting'])).length, 2, 'a row after the flush waits for a job of its own');
  });

  it('a row enqueued alone keeps its row id as job id: enqueueing it again while it waits adds nothing', async () => {
    const prefix = uniquePrefix('evq2');
    const queue = queueOn(prefix);
    const enqueuer = enqueuerOn(prefix);
    const e = await store('evq-alone', 'pi_evq_alone');
    await enqueuer.enqueue(e.eventRowId, e.facts);
    await enqueuer.enqueue(e.eventRowId, e.facts);
    const jobs = await queue.getJobs(['waiting']);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.id, e.eventRowId);
    assert.deepEqual(jobs[0]!.data, { eventRowId: e.eventRowId, facts: e.facts }, 'the one-event shape');
  });

  it('a job one of whose events fails is retried; the worker hands the applier every event again and completes it once none fails', async () => {
    const prefix = uniquePrefix('evq3');
    const queue = queueOn(prefix);
    const enqueuer = enqueuerOn(prefix);
    const a = await store('evq-retry-a', 'pi_evq_retry_a');
    const b = await store('evq-retry-b', 'pi_evq_retry_b');
    const seen: string[][] = [];
    // The queue adapter under test; the domain's own failure counting is ApplyDojoEvent's (apply-round-trips, dead-letters).
    const flaky: DojoEventApplier = {
      executeAll: async (cmds) => {
        seen.push(cmds.map((c) => c.eventRowId));
        return cmds.map((c) =>
          seen.length === 1 && c.eventRowId === b.eventRowId
            ? { status: 'rejected' as const, reason: new Error('transient') }
            : { status: 'fulfilled' as const, value: { outcome: seen.length === 1 ? 'pending_payment' : 'already_applied' } },
        );
      },
    };
    await Promise.all([enqueuer.enqueue(a.eventRowId, a.facts), enqueuer.enqueue(b.eventRowId, b.facts)]);
    await workerOn(prefix, flaky);
    await waitFor(() => seen.length >= 2, 'the job was retried', 10_000, 25);
    const left = async () => Object.values(await queue.getJobCounts('waiting', 'active', 'delayed')).reduce((a, b) => a + b, 0);
    await waitFor(async () => (await left()) === 0, 'the job completed', 10_000, 25);
    assert.equal(seen.length, 2, 'retried once, then done');
    assert.deepEqual(seen[0], [a.eventRowId, b.eventRowId]);
    assert.deepEqual(seen[1], [a.eventRowId, b.eventRowId], 'the whole job again: applies are idempotent per row');
  });

  it('executeAll answers each of a job\'s events in order: the first of an intent shares a transaction with the others, its second follows alone', async () => {
    const lots: number[] = [];
    const apply = new ApplyDojoEvent(db.prisma, logger, { observe: { applied: (n) => void lots.push(n), sharedFailed: () => undefined } });
    const first = await store('evq-wave-1', 'pi_evq_wave');
    const second = await store('evq-wave-2', 'pi_evq_wave');
    const others = await Promise.all([store('evq-wave-x', 'pi_evq_wave_x'), store('evq-wave-y', undefined)]);
    const out = await apply.executeAll([first, second, ...others]);
    assert.deepEqual(out.map((o) => (o.status === 'fulfilled' ? o.value.outcome : 'failed')), ['pending_payment', 'pending_payment', 'pending_payment', 'applied']);
    assert.deepEqual(lots, [3, 1], 'the first of the intent with the others, then the second alone');
  });
});
