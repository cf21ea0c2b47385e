import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { DojoApiError } from '@app/dojo-client';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';
import { eventPayload } from './fixtures';

/**
 * A Refunded event needs Dojo's refundedAmount before it is applied. While Dojo cannot answer (no answer, 5xx,
 * 429) the event is retried with backoff and never becomes a dead letter; a refusal (4xx) still counts to one.
 * Real Postgres; Dojo's answers through the reader port.
 */
describe('events: Dojo unavailable while an event needs its answer', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let loc: LocationFixture;
  let answer: () => Promise<{ tipsAmount: bigint; refundedAmount: bigint }>;

  before(async () => {
    db = await createTestDatabase('dojounavailable');
    fx = fixtures(db.prisma);
    loc = await fx.location();
  });
  after(async () => {
    await db?.drop();
  });

  const setUp = async (pi: string) => {
    const o = await fx.order(loc.id, { total: 1000 });
    await fx.payment(loc.id, o.id, { paymentIntentId: pi, amount: 1000 });
    const at = new Date();
    const row = await new DojoEventsRepository(db.prisma).store(loc.id, eventPayload(loc.dojoAccountId, `evt-${pi}`, 'payment_intent.status_updated', pi, 'Refunded', at), 'webhook', at);
    return { orderId: o.id, rowId: row!.id };
  };
  const apply = () => new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { maxAttempts: 2, dojoIntents: { read: () => answer() } });

  it('an outage never kills the event; once Dojo answers it applies what Dojo says was refunded', async () => {
    const { orderId, rowId } = await setUp('pi-outage');
    answer = () => Promise.reject(new DojoApiError('GET', '/payment-intents/pi-outage', 503, 'unavailable', 2));
    for (let i = 0; i < 4; i++) await assert.rejects(apply().execute({ eventRowId: rowId }), DojoApiError);
    answer = () => Promise.reject(new DojoApiError('GET', '/payment-intents/pi-outage', 0, 'connect ECONNREFUSED', 2));
    await assert.rejects(apply().execute({ eventRowId: rowId }), DojoApiError);
    let row = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: rowId } });
    assert.deepEqual([row.state, row.attempts], ['received', 1], 'counted up to one short of EVENTS_MAX_ATTEMPTS, so it backs off, and not dead');
    assert.match(row.lastError ?? '', /ECONNREFUSED/);
    answer = async () => ({ tipsAmount: 0n, refundedAmount: 400n });
    assert.equal((await apply().execute({ eventRowId: rowId })).outcome, 'applied');
    row = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: rowId } });
    assert.equal(row.state, 'applied');
    assert.equal((await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: orderId } } })).paidAmount, 600n);
  });

  it('a refusal from Dojo (4xx other than 404, 408, 429) still counts towards a dead letter', async () => {
    const { rowId } = await setUp('pi-refused');
    answer = () => Promise.reject(new DojoApiError('GET', '/payment-intents/pi-refused', 403, 'forbidden', 1));
    await assert.rejects(apply().execute({ eventRowId: rowId }), DojoApiError);
    assert.equal((await apply().execute({ eventRowId: rowId })).outcome, 'dead');
  });
});
