import type { FindTables, KeysetPage, Table } from '../../core/commands';
import { tablesRepo } from '../../repositories/tables.repository';
import { keysetPage } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/** FindTables (SearchTablesV1): the location's tables by area and waiter, keyset-paginated by table id. */
export class SearchTables implements UseCase<FindTables, KeysetPage<Table>> {
  execute(ctx: ExecContext, cmd: FindTables): Promise<KeysetPage<Table>> {
    const repo = tablesRepo(ctx.db);
    return keysetPage(
      cmd.page,
      (row: Table) => row.id,
      (dir, id, take) => repo.searchTables(ctx.locationId, cmd.filter, dir, id, take),
      (dir, id) => repo.anyTable(ctx.locationId, cmd.filter, dir, id),
    );
  }
}
