import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../../../apps/worker/src/main';
import type { RunningApp } from '@app/common';
import { createLogger } from '@app/common';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { eventPayload } from './fixtures';

describe('worker app: the events pipeline is wired in', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let worker: RunningApp;
  let loc: LocationFixture;

  before(async () => {
    db = await createTestDatabase('events-workerapp');
    fx = fixtures(db.prisma);
    loc = await fx.location();
    await fx.order(loc.id, { id: 'ord_1', total: 1000 });
    await fx.payment(loc.id, 'ord_1', { paymentIntentId: 'pi_1', amount: 1000 });
    worker = await startWorker(
      appEnv(db, {
        QUEUE_PREFIX: uniquePrefix('evwa'),
        EVENTS_SWEEP_INTERVAL_MS: '200',
        EVENTS_SWEEP_AFTER_MS: '300',
        DOJO_API_URL: 'http://127.0.0.1:9',
      }),
    );
  });

  after(async () => {
    await worker?.close();
    await db?.drop();
  });

  it('applies a stored event that was never enqueued (sweeper + worker)', async () => {
    const unreachable = { enqueue: async () => Promise.reject(new Error('no queue')) };
    const ingest = new IngestDojoEvent(new DojoEventsRepository(db.prisma), unreachable, createLogger('t', 'silent'));
    const { eventRowId } = await ingest.execute({
      payload: eventPayload(loc.dojoAccountId, 'evt_1', 'payment_intent.status_updated', 'pi_1', 'Authorized', new Date()),
      channel: 'socket',
      locationId: loc.id,
    });
    await waitFor(async () => (await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state === 'applied', 'applied', 20_000, 100);
    const p = await db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: 'pi_1' } } });
    assert.equal(p.intentStatus, 'Authorized');
    assert.equal(p.state, 'Recorded');
    const kinds = (await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id } })).map((f) => f.kind).sort();
    assert.deepEqual(kinds, ['event.received', 'payment.updated']);
  });
});
