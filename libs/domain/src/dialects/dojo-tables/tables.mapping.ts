import type { TablesParams, TablesTable } from '@app/contracts';
import type { FindTableStates, TableState } from '../../core/commands';
import { TablesError } from './errors';
import { listFilter, occupancyOf, tablesTable } from './wire.mapping';

/**
 * GetTable by name. Names are unique on the Tables API, but the venue API does not refuse a second table of a name
 * (EPOS Data names are unique only within an area): of tables sharing the name, the one with the lowest id answers
 * (FindTableStatesOfVenue keeps the venue's tables in id order).
 */
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
