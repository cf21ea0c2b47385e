import type { GetTableBill, TableBill } from '../../core/commands';
import { billsRepo } from '../../repositories/bills.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../table-refs';
import { ordersAtTable } from '../table-orders';

/**
 * GetTableBill: the table's open orders (oldest first, with items and
 * payments) and the venue's bill template, as GetBill gives them for one order
 * (without a template: the venue's name for the dialect's default header).
 *
 * Open orders only, for the final receipt too. While a terminal holds the
 * table lock (lock, pay, final receipt, unlock) the venue cannot close a
 * locked order (its PUT is refused `locked`), so the orders just paid are
 * still open and on the receipt. Only a payment taken without a lock, or
 * after the lock expired, lets the venue finalize the order before the
 * receipt is asked for, and then nothing ties a closed order to this visit:
 * a payment's lock id and a lock row are named per table and terminal and
 * reused on every visit, and expired lock rows stay on closed orders. Adding
 * closed orders by those names would print an earlier party's orders.
 */
export class GetTableBillById implements UseCase<GetTableBill, TableBill> {
  async execute(ctx: ExecContext, cmd: GetTableBill): Promise<TableBill> {
    await requireTables(ctx.db, ctx.locationId, [cmd.tableId]);
    const orders = await ordersAtTable(ctx, cmd.tableId, { openOnly: true });
    const bills = billsRepo(ctx.db);
    const template = await bills.template(ctx.locationId);
    const lines = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);
    if (template) return { tableId: cmd.tableId, orders, header: lines(template.header), footer: lines(template.footer), venueName: null, hasTemplate: true };
    return { tableId: cmd.tableId, orders, header: [], footer: [], venueName: await bills.venueName(ctx.locationId), hasTemplate: false };
  }
}
