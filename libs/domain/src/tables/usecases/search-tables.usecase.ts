import type { Models } from '@app/contracts';
import { tablesRepo, type TableRow, type TableSearch } from '../../repositories/tables.repository';
import { decodeCursor, encodeCursor, paginate, pageRequest } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

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
    const search: TableSearch = { areaId: params.areaId, waiterId: params.waiterId };
    const repo = tablesRepo(ctx.db);
    const result = await paginate(
      page,
      (row: TableRow) => row.id,
      (id) => encodeCursor('t', id),
      (dir, id, take) => repo.searchTables(ctx.locationId, search, dir, id, take),
      (dir, id) => repo.anyTable(ctx.locationId, search, dir, id),
    );
    return { ...result, data: result.data.map(tableToDojo) };
  }
}
