import type { GetTableBill, TableBill } from '../../core/commands';
import { billsRepo } from '../../repositories/bills.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../table-refs';
import { ordersAtTable } from '../table-orders';

/**
 * GetTableBill: the table's open orders (oldest first, with items and
 * payments) and the venue's bill template, as GetBill gives them for one order
 * (without a template: the venue's name for the dialect's default header).
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
