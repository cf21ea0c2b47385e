import type { Order } from '../core/commands';
import { DomainRefusal } from '../core/refusal';
import { outstandingAmount, type OrderDue } from '../core/rules';
import { ordersRepo } from '../repositories/orders.repository';
import type { ExecContext } from '../rpc/exec-context';

/** Most orders a table-level change acts on at once; a table with more is refused (the venue should close some). */
export const MAX_ORDERS_AT_TABLE = 100;

/** The table's orders matching the filter, oldest first (seq), scoped to the location. */
export async function ordersAtTable(ctx: Pick<ExecContext, 'db' | 'locationId'>, tableId: string, filter: { payableOnly?: boolean; openOnly?: boolean }): Promise<Order[]> {
  const found = await ordersRepo(ctx.db).search(ctx.locationId, { tableId, ...filter }, { limit: MAX_ORDERS_AT_TABLE });
  if (found.rows.length > MAX_ORDERS_AT_TABLE) {
    throw DomainRefusal.conflict(`table ${tableId} has more than ${MAX_ORDERS_AT_TABLE} open orders; close some at the venue first`);
  }
  return found.rows;
}

/** The orders' dues for core/rules allocateTablePayment, in the same (oldest first) order. */
export function duesOf(orders: readonly Order[]): OrderDue[] {
  return orders.map((o) => ({ orderId: o.id, outstanding: o.payable ? outstandingAmount(o) : 0n }));
}
