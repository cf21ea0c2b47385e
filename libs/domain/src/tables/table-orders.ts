import type { Order } from '../core/commands';
import { DomainRefusal } from '../core/refusal';
import { cardMachineRoom, outstandingAmount, type OrderDue } from '../core/rules';
import { counterRepo } from '../repositories/counter.repository';
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

/**
 * What a card machine may pay on each of the table's payable orders, for core/rules allocateTablePayment, oldest
 * first: what is outstanding less what counter sales still running against the order may take (core/rules
 * cardMachineRoom, the room decidePayment gives a card machine), so a table payment goes to orders that can take it
 * rather than being refused on one a counter terminal is paying.
 */
export async function tableDues(ctx: Pick<ExecContext, 'db' | 'locationId'>, tableId: string): Promise<OrderDue[]> {
  const orders = await ordersAtTable(ctx, tableId, { payableOnly: true });
  const held = await counterRepo(ctx.db).openSaleAmounts(ctx.locationId, orders.map((o) => o.id));
  return orders.map((o) => ({ orderId: o.id, outstanding: o.payable ? cardMachineRoom(outstandingAmount(o), held.get(o.id) ?? 0n) : 0n }));
}
