import type { TablesParams, TablesTable } from '@app/contracts';
import type { FindTableStates, TableState } from '../../core/commands';
import { TablesError } from './errors';
import { listFilter, occupancyOf, tablesTable } from './wire.mapping';

export const getTable = {
  toCommand: (p: TablesParams['GetTable']): FindTableStates & { name: string } => ({ names: [p.name], name: p.name }),
  toWire(states: TableState[]): { table: TablesTable } {
    const s = states[0];
    if (!s) throw new TablesError('TABLE_NO_SUCH_TABLE', 'no table of that name at this venue');
    return { table: tablesTable(s) };
  },
};

export const listTables = {
  toCommand(p: TablesParams['ListTables']): FindTableStates {
    const statuses = listFilter(p.statuses);
    return statuses !== undefined ? { occupancy: statuses.map(occupancyOf) } : {};
  },
  toWire: (states: TableState[]): { tables: TablesTable[] } => ({ tables: states.map(tablesTable) }),
};
