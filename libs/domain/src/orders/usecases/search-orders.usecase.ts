import type { Models } from '@app/contracts';
import type { Prisma } from '@app/db';
import { decodeSeqCursor, encodeCursor, paginate, pageRequest } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { ORDER_INCLUDE, orderToDojo, OrderWithRelations } from '../order-mapper';

/** SearchOrdersV1: the location's orders by dine-in filters and payableOnly, keyset-paginated by seq. */
export class SearchOrders implements UseCase<Models.SearchOrdersRequest, Models.PagedOrdersResponse> {
  async execute(ctx: ExecContext, params: Models.SearchOrdersRequest): Promise<Models.PagedOrdersResponse> {
    const page = pageRequest(params.cursor, (c, f) => decodeSeqCursor('o', c, f));
    const dine = params.dineIn ?? {};
    const where: Prisma.OrderWhereInput = { locationId: ctx.locationId };
    if (dine.tableId !== undefined) where.tableId = dine.tableId;
    if (dine.waiterId !== undefined) where.waiterId = dine.waiterId;
    if (dine.partyId !== undefined) where.partyId = dine.partyId;
    if (dine.reservationId !== undefined) where.reservationId = dine.reservationId;
    if (params.payableOnly) where.payable = true;
    const bound = (dir: 'asc' | 'desc', seq: bigint | undefined): Prisma.OrderWhereInput =>
      seq === undefined ? where : { AND: [where, { seq: dir === 'asc' ? { gt: seq } : { lt: seq } }] };
    const result = await paginate(
      page,
      (row: OrderWithRelations) => row.seq,
      (seq) => encodeCursor('o', seq),
      (dir, seq, take) => ctx.db.order.findMany({ where: bound(dir, seq), orderBy: { seq: dir }, take, include: ORDER_INCLUDE }),
      async (dir, seq) => (await ctx.db.order.findFirst({ where: bound(dir, seq), select: { seq: true } })) !== null,
    );
    return { ...result, data: result.data.map(orderToDojo) };
  }
}
