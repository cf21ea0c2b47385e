import { isClosedStatus } from './order-status';

/**
 * What a table is doing, from its open orders (pay at table's view of the floor):
 * - not_in_use: the venue does not seat anyone there (no covers);
 * - occupied: an open order still has something to pay;
 * - pending_available: open orders remain but all are paid (the party is leaving; the venue closes them);
 * - available: no open order.
 */
export type TableOccupancy = 'not_in_use' | 'available' | 'pending_available' | 'occupied';

export interface OrderAtTable {
  status: string;
  payable: boolean;
  totalAmount: bigint;
  paidAmount: bigint;
}

export function tableOccupancy(table: { maxCovers: number | null }, orders: readonly OrderAtTable[]): TableOccupancy {
  if (table.maxCovers === 0) return 'not_in_use';
  const open = orders.filter((o) => !isClosedStatus(o.status));
  if (open.length === 0) return 'available';
  return open.some((o) => o.paidAmount < o.totalAmount) ? 'occupied' : 'pending_available';
}

/** A table session (an order at a table, or a tab) is finished once its order is closed. */
export function isSessionFinished(order: { status: string }): boolean {
  return isClosedStatus(order.status);
}

/**
 * Waiter-id enforcement of the pay-at-table dialects: when the venue enforces it, only the order's own waiter
 * may act on it; an order without a waiter is open to any waiter.
 */
export function isWaiterAllowed(orderWaiterId: string | null, requestWaiterId: string): boolean {
  return orderWaiterId === null || orderWaiterId === requestWaiterId;
}
