import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { rawOnPg } from '@app/domain/repositories/unit-of-work';
import type { LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, pgRoundTripsOf } from '@app/testing';
import { eventPayload } from './fixtures';

/**
 * The events worker's apply talks to Postgres in as few round trips as its
 * locks allow: the unlocked head read; BEGIN with the intent lock, the row
 * lock and the reads they guard; the last write with COMMIT.
 */
describe('Dojo event apply: SQL round trips', () => {
  let db: TestDatabase;
  let loc: LocationFixture;
  const at = new Date('2026-11-30T12:00:00.000Z');

  before(async () => {
    db = await createTestDatabase();
    loc = await fixtures(db.prisma).location();
  });
  after(async () => {
    await db.drop();
  });

  const store = async (id: string, paymentIntentId: string | undefined) => {
    const stored = await new DojoEventsRepository(rawOnPg(db.prisma)).store(loc.id, eventPayload(loc.dojoAccountId, id, 'payment_intent.status_updated', paymentIntentId, 'Authorized', at), 'webhook', at);
    return stored!.id;
  };
  const state = async (id: string) =>
    (await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id }, select: { state: true } })).state as string;

  it('an event whose intent has no payment yet: 3 round trips (head; BEGIN + locks + reads; pending mark + COMMIT)', async () => {
    const rowId = await store('rt-pending', 'pi_rt_pending');
    const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'));
    const { out, trips, statements } = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(out.outcome, 'pending_payment');
    assert.equal(await state(rowId), 'pending_payment');
    assert.equal(trips, 3);
    assert.equal(statements, 8, 'head; BEGIN, intent lock, row lock+read, payment, intent; the mark, COMMIT');
    // Again: nothing left to do, one unlocked read.
    const again = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(again.out.outcome, 'pending_payment');
  });

  it('an event with no intent: 3 round trips, its move to applied and its feed entry one statement sent with COMMIT', async () => {
    const rowId = await store('rt-noint', undefined);
    const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'));
    const { out, trips, statements } = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(out.outcome, 'applied');
    assert.equal(await state(rowId), 'applied');
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id, kind: 'event.received', entityId: 'rt-noint' } });
    assert.equal(feed.length, 1);
    assert.equal(trips, 3);
    assert.equal(statements, 5, 'head; BEGIN, row lock+read; the write, COMMIT');
    const again = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(again.out.outcome, 'already_applied');
    assert.equal(again.trips, 1);
  });
});
