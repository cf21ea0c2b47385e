import type { FindOrders, FoundOrders } from '../../core/commands';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { ordersRepo } from '../../repositories/orders.repository';

/**
 * FindOrders (SearchOrdersV1, and FindPayableOrdersAtTable): the location's
 * orders by filter, keyset-paginated by seq. One SQL statement returns the
 * page (limit + 1 rows, with items and payments) and whether any matching
 * order lies on the other side of the page.
 */
export class SearchOrders implements UseCase<FindOrders, FoundOrders> {
  async execute(ctx: ExecContext, cmd: FindOrders): Promise<FoundOrders> {
    const { page } = cmd;
    const found = await ordersRepo(ctx.db).search(ctx.locationId, cmd.filter, page);
    const backwards = page.before !== undefined;
    const more = found.rows.length > page.limit;
    const orders = found.rows.slice(0, page.limit);
    if (backwards) orders.reverse();
    return { orders, hasBefore: backwards ? more : found.beyond, hasAfter: backwards ? found.beyond : more };
  }
}
