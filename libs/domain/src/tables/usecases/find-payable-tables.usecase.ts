import type { FindPayableTables, PayableTables } from '../../core/commands';
import { ordersRepo } from '../../repositories/orders.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/** FindPayableTables: the location's tables with a payable order, by table id, each with its orders' currency. */
export class ListPayableTables implements UseCase<FindPayableTables, PayableTables> {
  async execute(ctx: ExecContext): Promise<PayableTables> {
    return { tables: await ordersRepo(ctx.db).payableTables(ctx.locationId) };
  }
}
