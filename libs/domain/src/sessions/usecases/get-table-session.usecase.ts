import type { GetSession, SessionWithTable } from '../../core/commands';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { tablesRepo } from '../../repositories/tables.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { GetTableSessionOrder } from './get-table-session-order.usecase';

/** GetSession: one table session (an order) with its table and its party's covers, if it has them; another waiter's order is refused when waiter ids are enforced. */
export class GetTableSession implements UseCase<GetSession, SessionWithTable> {
  private readonly session = new GetTableSessionOrder();

  async execute(ctx: ExecContext, cmd: GetSession): Promise<SessionWithTable> {
    const order = await this.session.execute(ctx, cmd);
    const table = order.tableId === null ? null : ((await tablesRepo(ctx.db).allTables(ctx.locationId)).find((t) => t.id === order.tableId) ?? null);
    const covers = order.partyId === null ? null : ((await partiesRepo(ctx.db).coversOfParties(ctx.locationId, [order.partyId])).get(order.partyId) ?? null);
    return { order, table, covers };
  }
}
