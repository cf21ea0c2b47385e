import type { FindTableStates, TableState } from '../../core/commands';
import { tableOccupancy } from '../../core/rules';
import { ordersRepo } from '../../repositories/orders.repository';
import { tablesRepo } from '../../repositories/tables.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/** FindTableStates: the venue's tables with their occupancy (core/rules tableOccupancy) and open orders, by id. */
export class FindTableStatesOfVenue implements UseCase<FindTableStates, TableState[]> {
  async execute(ctx: ExecContext, cmd: FindTableStates): Promise<TableState[]> {
    let tables = await tablesRepo(ctx.db).allTables(ctx.locationId);
    if (cmd.names !== undefined) {
      const names = new Set(cmd.names);
      tables = tables.filter((t) => names.has(t.name));
    }
    if (tables.length === 0) return [];
    const open = await ordersRepo(ctx.db).findSessions(ctx.locationId, { finished: false, tableIds: tables.map((t) => t.id) });
    const states = tables.map((table) => {
      const openOrders = open.filter((o) => o.tableId === table.id);
      return { table, occupancy: tableOccupancy(table, openOrders), openOrders };
    });
    return cmd.occupancy === undefined ? states : states.filter((s) => cmd.occupancy!.includes(s.occupancy));
  }
}
