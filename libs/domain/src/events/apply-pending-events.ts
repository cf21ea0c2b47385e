import type { Tx } from '../shared/tx';
import { applyLockedEvent, lockPaymentIntent } from './event-effects';

/**
 * Called by RecordOrderPayment in its transaction right after a payment row is
 * inserted: applies the stored Dojo events for that payment intent that arrived
 * before the payment was recorded (state 'pending_payment'), oldest first.
 * Takes the intent lock, so an events worker deciding "no payment yet" for the
 * same intent either commits first (and its row is seen here) or waits for
 * this transaction (and then sees the payment).
 */
export async function applyPendingEventsForIntent(tx: Tx, locationId: string, paymentIntentId: string): Promise<void> {
  await lockPaymentIntent(tx, locationId, paymentIntentId);
  await tx.$executeRaw`
    SELECT 1 FROM dojo_events
     WHERE location_id = ${locationId}::uuid AND payment_intent_id = ${paymentIntentId} AND state = 'pending_payment'
       FOR UPDATE`;
  const pending = await tx.dojoEvent.findMany({
    where: { locationId, paymentIntentId, state: 'pending_payment' },
    orderBy: [{ occurredAt: 'asc' }, { eventId: 'asc' }],
  });
  for (const ev of pending) await applyLockedEvent(tx, ev);
}
