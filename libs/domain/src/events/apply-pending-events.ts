import type { Tx } from '../shared/tx';

/**
 * OWNED BY the events pipeline (webhook issue). Called by RecordOrderPayment in
 * its transaction right after a payment row is inserted: applies stored Dojo
 * events for that payment intent that arrived before the payment was recorded.
 * PLACEHOLDER SIGNATURE: the events work replaces this body.
 */
export async function applyPendingEventsForIntent(_tx: Tx, _locationId: string, _paymentIntentId: string): Promise<void> {
  throw new Error('applyPendingEventsForIntent is not implemented yet');
}
