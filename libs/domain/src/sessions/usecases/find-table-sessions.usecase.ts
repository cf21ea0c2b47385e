import type { FindSessions, TableSessions } from '../../core/commands';
import { OrdersRepository } from '../../repositories/orders.repository';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import type { TableRow } from '../../repositories/tables.repository';
import { TablesRepository } from '../../repositories/tables.repository';
import { readTogether } from '../../repositories/unit-of-work';
import { orderCacheOf } from '../../repositories/sql-tx';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * FindSessions: the venue's table sessions (orders at a table, or tabs),
 * oldest first (at most MAX_SESSIONS: the open ones, then the most recent finished), with every filter given holding, the venue's tables (so a
 * dialect can name each session's table) and the covers of their parties. Table names the venue does not have
 * match nothing.
 */
export class FindTableSessions implements UseCase<FindSessions, TableSessions> {
  async execute(ctx: ExecContext, cmd: FindSessions): Promise<TableSessions> {
    // A gateway's read may be answered from its copy (GATEWAY_READ_CACHE: orders, tables and parties are announced).
    const cache = orderCacheOf(ctx.db);
    const key = cache ? `sessions:${JSON.stringify(cmd.filter)}` : '';
    const kept = cache?.read<TableSessions>(ctx.locationId, key);
    if (kept !== undefined) return kept;
    const ticket = cache?.ticket();
    // The venue's tables and its sessions do not depend on each other (the sessions filter by table name in SQL):
    // one round trip for both on pg (readTogether).
    const [tableRows, sessionRows] = await readTogether(ctx.db, [
      TablesRepository.allTablesSql(ctx.locationId),
      OrdersRepository.findSessionsSql(ctx.locationId, cmd.filter),
    ]);
    const tables = tableRows as TableRow[];
    const orders = OrdersRepository.sessionsOf(sessionRows!);
    const partyIds = [...new Set(orders.flatMap((o) => (o.partyId === null ? [] : [o.partyId])))];
    const found = { orders, tables, partyCovers: await partiesRepo(ctx.db).coversOfParties(ctx.locationId, partyIds) };
    // Its orders too: the card machine's next read is usually one of them (GetBillItems).
    if (ticket !== undefined) cache!.keepRead(ticket, ctx.locationId, key, found, orders);
    return found;
  }
}
