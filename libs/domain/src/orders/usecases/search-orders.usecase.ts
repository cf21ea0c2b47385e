import type { Models } from '@app/contracts';
import { Prisma } from '@app/db';
import { decodeSeqCursor, encodeCursor, pageRequest } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { orderToDojo } from '../order-mapper';
import { jsonValue, ORDER_JSON_SQL, OrderJson, orderRowFromJson } from '../order-sql';

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
    const conds: Prisma.Sql[] = [Prisma.sql`o.location_id = ${ctx.locationId}::uuid`];
    const eq = (column: string, value: string | null | undefined) => {
      if (value === undefined) return;
      conds.push(value === null ? Prisma.sql`${Prisma.raw(`o.${column}`)} IS NULL` : Prisma.sql`${Prisma.raw(`o.${column}`)} = ${value}`);
    };
    eq('table_id', dine.tableId);
    eq('waiter_id', dine.waiterId);
    eq('party_id', dine.partyId);
    eq('reservation_id', dine.reservationId);
    if (params.payableOnly) conds.push(Prisma.sql`o.payable = true`);
    const where = Prisma.join(conds, ' AND ');
    const backwards = page.before !== undefined;
    const bound = backwards
      ? Prisma.sql` AND o.seq < ${page.before}::bigint`
      : page.after !== undefined
        ? Prisma.sql` AND o.seq > ${page.after}::bigint`
        : Prisma.empty;
    const dir = Prisma.raw(backwards ? 'DESC' : 'ASC');
    // Forwards: "before" exists when a match precedes the page's first seq; backwards: "after" when one follows its last.
    const beyond = backwards
      ? Prisma.sql`EXISTS (SELECT 1 FROM orders o WHERE ${where} AND o.seq > (SELECT max(seq) FROM page))`
      : Prisma.sql`EXISTS (SELECT 1 FROM orders o WHERE ${where} AND o.seq < (SELECT min(seq) FROM page))`;
    const rows = await ctx.db.$queryRaw<{ page: unknown; beyond: boolean }[]>`
      WITH page AS (SELECT o.* FROM orders o WHERE ${where}${bound} ORDER BY o.seq ${dir} LIMIT ${page.limit + 1}::int)
      SELECT COALESCE((SELECT json_agg(${ORDER_JSON_SQL} ORDER BY o.seq ${dir}) FROM page o), '[]'::json) AS page, ${beyond} AS beyond`;
    const fetched = jsonValue<OrderJson[]>(rows[0]!.page);
    const more = fetched.length > page.limit;
    const kept = fetched.slice(0, page.limit);
    if (backwards) kept.reverse();
    const result: Models.PagedOrdersResponse = { data: kept.map((j) => orderToDojo(orderRowFromJson(j))) };
    const hasBefore = backwards ? more : rows[0]!.beyond;
    const hasAfter = backwards ? rows[0]!.beyond : more;
    if (kept.length > 0 && hasBefore) result.before = encodeCursor('o', kept[0]!.seq);
    if (kept.length > 0 && hasAfter) result.after = encodeCursor('o', kept[kept.length - 1]!.seq);
    return result;
  }
}
