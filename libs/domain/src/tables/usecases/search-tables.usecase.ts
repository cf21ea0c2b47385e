import type { Models } from '@app/contracts';
import type { Prisma } from '@app/db';
import { decodeCursor, encodeCursor, paginate, pageRequest } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

type TableRow = Prisma.DiningTableGetPayload<{}>;

export function tableToDojo(t: TableRow): Models.Table {
  const out: Models.Table = { id: t.id, name: t.name, waiterIds: t.waiterIds };
  if (t.maxCovers !== null) out.maxCovers = t.maxCovers;
  if (t.areaId !== null) out.areaId = t.areaId;
  return out;
}

/** SearchTablesV1: the location's tables by area and waiter, keyset-paginated by table id. */
export class SearchTables implements UseCase<Models.SearchTablesRequest, Models.PagedTablesResponse> {
  async execute(ctx: ExecContext, params: Models.SearchTablesRequest): Promise<Models.PagedTablesResponse> {
    const page = pageRequest(params.cursor, (c, f) => decodeCursor('t', c, f));
    const where: Prisma.DiningTableWhereInput = { locationId: ctx.locationId };
    if (params.areaId !== undefined) where.areaId = params.areaId;
    if (params.waiterId !== undefined) where.waiterIds = { has: params.waiterId };
    const bound = (dir: 'asc' | 'desc', id: string | undefined): Prisma.DiningTableWhereInput =>
      id === undefined ? where : { AND: [where, { id: dir === 'asc' ? { gt: id } : { lt: id } }] };
    const result = await paginate(
      page,
      (row: TableRow) => row.id,
      (id) => encodeCursor('t', id),
      (dir, id, take) => ctx.db.diningTable.findMany({ where: bound(dir, id), orderBy: { id: dir }, take }),
      async (dir, id) => (await ctx.db.diningTable.findFirst({ where: bound(dir, id), select: { id: true } })) !== null,
    );
    return { ...result, data: result.data.map(tableToDojo) };
  }
}
