import type { FindSessions, TableSessions } from '../../core/commands';
import { ordersRepo } from '../../repositories/orders.repository';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { tablesRepo } from '../../repositories/tables.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * FindSessions: the venue's table sessions (orders at a table, or tabs),
 * oldest first (at most MAX_SESSIONS: the open ones, then the most recent finished), with every filter given holding, the venue's tables (so a
 * dialect can name each session's table) and the covers of their parties. Table names the venue does not have
 * match nothing.
 */
export class FindTableSessions implements UseCase<FindSessions, TableSessions> {
  async execute(ctx: ExecContext, cmd: FindSessions): Promise<TableSessions> {
    const tables = await tablesRepo(ctx.db).allTables(ctx.locationId);
    const { tableNames, ...filter } = cmd.filter;
    if (tableNames !== undefined) {
      const names = new Set(tableNames);
      filter.tableIds = tables.filter((t) => names.has(t.name)).map((t) => t.id);
      if (filter.tableIds.length === 0) return { orders: [], tables, partyCovers: new Map() };
    }
    const orders = await ordersRepo(ctx.db).findSessions(ctx.locationId, filter);
    const partyIds = [...new Set(orders.flatMap((o) => (o.partyId === null ? [] : [o.partyId])))];
    return { orders, tables, partyCovers: await partiesRepo(ctx.db).coversOfParties(ctx.locationId, partyIds) };
  }
}
