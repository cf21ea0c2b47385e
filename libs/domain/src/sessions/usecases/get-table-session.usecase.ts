import { DomainRefusal } from '../../core/refusal';
import type { GetSession, SessionWithTable } from '../../core/commands';
import { isWaiterAllowed } from '../../core/rules';
import { requireOrder } from '../../orders/order-for-change';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { tablesRepo } from '../../repositories/tables.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/** GetSession: one table session (an order) with its table and its party's covers, if it has them; another waiter's order is refused when waiter ids are enforced. */
export class GetTableSession implements UseCase<GetSession, SessionWithTable> {
  async execute(ctx: ExecContext, cmd: GetSession): Promise<SessionWithTable> {
    const order = await requireOrder(ctx, cmd.orderId);
    if (cmd.waiterId !== undefined && !isWaiterAllowed(order.waiterId, cmd.waiterId)) {
      throw DomainRefusal.conflict(`order ${order.id} belongs to another waiter than ${cmd.waiterId}`, 'wrong_waiter');
    }
    const table = order.tableId === null ? null : ((await tablesRepo(ctx.db).allTables(ctx.locationId)).find((t) => t.id === order.tableId) ?? null);
    const covers = order.partyId === null ? null : ((await partiesRepo(ctx.db).coversOfParties(ctx.locationId, [order.partyId])).get(order.partyId) ?? null);
    return { order, table, covers };
  }
}
