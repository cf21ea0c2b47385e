import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import type { DojoIntentRead } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, waitFor } from '@app/testing';
import { eventPayload } from './fixtures';

/**
 * A Captured event whose transaction runs after an undo of the same intent
 * (Reversed, Canceled) was already applied: the Captured event reads Dojo
 * before its transaction (the capture's amount and tips), and meanwhile the
 * undo, which asks Dojo nothing, commits first and finds no payment to undo.
 * The intent's own status (already the undo) must win: the payment is
 * recorded and undone at once, as the two events in order would leave it,
 * never left counted on the order. Real Postgres; Dojo's answer through the
 * reader port, held until the undo has committed.
 */
describe('events: a late Captured after the intent was undone', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let loc: LocationFixture;
  let n = 0;

  before(async () => {
    db = await createTestDatabase('latecapture');
    fx = fixtures(db.prisma);
    loc = await fx.location();
  });
  after(async () => {
    await db?.drop();
  });

  const lateCapture = async (undo: 'Reversed' | 'Canceled') => {
    const pi = `pi_late_${undo}_${++n}`;
    const o = await fx.order(loc.id, { total: 1500 });
    await db.prisma.paymentIntent.create({
      data: {
        locationId: loc.id, id: `00000000-0000-4000-8000-00000000d00${n}`, paymentIntentId: pi, orderId: o.id, idempotencyKey: `late-${n}`,
        requestHash: 'x', amount: 1500n, currency: 'GBP', captureMode: 'Manual', tipsAllowed: false, status: 'Authorized',
      },
    });
    const t0 = Date.now();
    const store = async (status: string, at: Date) =>
      (await new DojoEventsRepository(db.prisma).store(loc.id, eventPayload(loc.dojoAccountId, `evt_${pi}_${status}`, 'payment_intent.status_updated', pi, status, at), 'webhook', at))!.id;
    const captured = await store('Captured', new Date(t0));
    const undone = await store(undo, new Date(t0 + 1000));

    // Dojo's answer to the Captured event's read is held until the undo has been applied.
    let asked = false;
    let answer!: (r: DojoIntentRead) => void;
    const held = new Promise<DojoIntentRead>((resolve) => (answer = resolve));
    const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), {
      dojoIntents: {
        read: () => {
          asked = true;
          return held;
        },
      },
    });
    const capturing = apply.execute({ eventRowId: captured });
    await waitFor(() => asked || undefined, 'the Captured event asked Dojo');
    assert.equal((await apply.execute({ eventRowId: undone })).outcome, 'applied', 'the undo, with no payment yet, applies first');
    const intent = await db.prisma.paymentIntent.findFirstOrThrow({ where: { locationId: loc.id, paymentIntentId: pi } });
    assert.equal(intent.status, undo);
    answer({ tipsAmount: 0n, refundedAmount: 0n, capturedAmount: 1500n });
    assert.equal((await capturing).outcome, 'applied');

    const payment = await db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: pi } } });
    assert.deepEqual([payment.state, payment.intentStatus], [undo, undo], 'recorded, then undone by the status already on the intent');
    const order = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: o.id } } });
    assert.deepEqual([Number(order.paidAmount), order.payable], [0, true], 'the order is not paid by money Dojo released');
    assert.equal((await db.prisma.paymentIntent.findFirstOrThrow({ where: { locationId: loc.id, paymentIntentId: pi } })).status, undo, 'the intent stays undone');
    const states = await db.prisma.dojoEvent.findMany({ where: { locationId: loc.id, paymentIntentId: pi }, select: { state: true } });
    assert.deepEqual(states.map((s) => s.state), ['applied', 'applied']);
  };

  it('Reversed applied before the Captured that came first: the payment ends Reversed, the order unpaid', () => lateCapture('Reversed'));

  it('Canceled applied before a late Captured: the payment ends Canceled, the order unpaid', () => lateCapture('Canceled'));
});
