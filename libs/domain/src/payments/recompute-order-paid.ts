import type { Tx } from '../shared/tx';

/**
 * OWNED BY the capability workers. Recomputes an order's paidAmount/tipsAmount
 * from its payments in state Recorded and sets payable accordingly (payable
 * while paid < total and the order is not Canceled/Finalized/Failed).
 * The caller holds the order row lock (SELECT ... FOR UPDATE) in `tx`.
 * PLACEHOLDER SIGNATURE: the worker work replaces this body.
 */
export async function recomputeOrderPaid(_tx: Tx, _locationId: string, _orderId: string): Promise<void> {
  throw new Error('recomputeOrderPaid is not implemented yet');
}
