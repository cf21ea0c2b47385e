import type { Models } from '@app/contracts';
import { decodeSeqCursor, encodeCursor, pageRequest } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { orderToDojo } from '../order-mapper';
import { ordersRepo } from '../../repositories/orders.repository';

/**
 * SearchOrdersV1: the location's orders by dine-in filters and payableOnly,
 * keyset-paginated by seq. One SQL statement returns the page (limit + 1 rows,
 * with items and payments) and whether any matching order lies on the other
 * side of the page.
 */
export class SearchOrders implements UseCase<Models.SearchOrdersRequest, Models.PagedOrdersResponse> {
  async execute(ctx: ExecContext, params: Models.SearchOrdersRequest): Promise<Models.PagedOrdersResponse> {
    const page = pageRequest(params.cursor, (c, f) => decodeSeqCursor('o', c, f));
    const dine = params.dineIn ?? {};
    const filter = { tableId: dine.tableId, waiterId: dine.waiterId, partyId: dine.partyId, reservationId: dine.reservationId, payableOnly: params.payableOnly };
    const found = await ordersRepo(ctx.db).search(ctx.locationId, filter, page);
    const backwards = page.before !== undefined;
    const more = found.rows.length > page.limit;
    const kept = found.rows.slice(0, page.limit);
    if (backwards) kept.reverse();
    const result: Models.PagedOrdersResponse = { data: kept.map((o) => orderToDojo(o)) };
    const hasBefore = backwards ? more : found.beyond;
    const hasAfter = backwards ? found.beyond : more;
    if (kept.length > 0 && hasBefore) result.before = encodeCursor('o', kept[0]!.seq);
    if (kept.length > 0 && hasAfter) result.after = encodeCursor('o', kept[kept.length - 1]!.seq);
    return result;
  }
}
