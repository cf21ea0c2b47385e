import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../../../apps/worker/src/main';
import { createLogger, RunningApp } from '@app/common';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { appEnv, createTestDatabase, TestDatabase, uniquePrefix, waitFor } from '@app/testing';
import { eventPayload, seedLocation, SeededLocation, seedOrder, seedPayment } from './fixtures';

describe('worker app: the events pipeline is wired in', () => {
  let db: TestDatabase;
  let worker: RunningApp;
  let loc: SeededLocation;

  before(async () => {
    db = await createTestDatabase('events-workerapp');
    loc = await seedLocation(db.prisma);
    await seedOrder(db.prisma, loc.locationId, 'ord_1', 1000);
    await seedPayment(db.prisma, loc.locationId, 'ord_1', 'pi_1', 1000);
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
    const ingest = new IngestDojoEvent(db.prisma, unreachable, createLogger('t', 'silent'));
    const { eventRowId } = await ingest.execute({
      payload: eventPayload(loc.accountId, 'evt_1', 'payment_intent.status_updated', 'pi_1', 'Authorized', new Date()),
      channel: 'socket',
      locationId: loc.locationId,
    });
    await waitFor(async () => (await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state === 'applied', 'applied', 20_000, 100);
    const p = await db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.locationId, paymentIntentId: 'pi_1' } } });
    assert.equal(p.intentStatus, 'Authorized');
    assert.equal(p.state, 'Recorded');
    const kinds = (await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.locationId } })).map((f) => f.kind).sort();
    assert.deepEqual(kinds, ['event.received', 'payment.updated']);
  });
});
