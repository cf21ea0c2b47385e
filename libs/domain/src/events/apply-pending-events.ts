import type { Logger } from '@app/common';
import { dojoEventsRepo } from '../repositories/dojo-events.repository';
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
export async function applyPendingEventsForIntent(tx: Tx, locationId: string, paymentIntentId: string, log: Logger): Promise<void> {
  await lockPaymentIntent(tx, locationId, paymentIntentId);
  const pending = await dojoEventsRepo(tx).lockPendingForIntent(locationId, paymentIntentId);
  for (const ev of pending) await applyLockedEvent(tx, ev, log);
}
