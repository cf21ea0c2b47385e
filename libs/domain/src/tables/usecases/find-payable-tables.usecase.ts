import type { FindPayableTables, PayableTables } from '../../core/commands';
import { ordersRepo } from '../../repositories/orders.repository';
import { tablesRepo } from '../../repositories/tables.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * FindPayableTables: the location's tables with a payable order, by table id,
 * each with its orders' currency. An order naming a table the venue no longer
 * has is left out (the table could not be locked).
 */
export class ListPayableTables implements UseCase<FindPayableTables, PayableTables> {
  async execute(ctx: ExecContext): Promise<PayableTables> {
    const payable = await ordersRepo(ctx.db).payableTables(ctx.locationId);
    if (payable.length === 0) return { tables: [] };
    const known = await tablesRepo(ctx.db).existingTableIds(ctx.locationId, payable.map((t) => t.tableId));
    return { tables: payable.filter((t) => known.has(t.tableId)) };
  }
}
