import type { FieldError } from '../admin/errors';
import { DomainError } from '../admin/errors';
import type { TablesRepository } from '../repositories/tables.repository';

/** A table id a venue body refers to, with the path of the field that names it. */
export interface TableRef {
  field: string;
  tableId: string;
}

/**
 * Refuses references to tables that do not exist at this venue, with one field
 * error per unknown table (the same shape as a table's unknown area). Run inside
 * the write's transaction: the tables found are key-share-locked until it commits,
 * so a table cannot be deleted between the check and the commit (renaming it still can).
 */
export async function requireVenueTables(tables: TablesRepository, locationId: string, refs: TableRef[]): Promise<void> {
  if (refs.length === 0) return;
  const ids = [...new Set(refs.map((r) => r.tableId))];
  refuseUnknownTables(refs, await tables.lockExistingTableIds(locationId, ids));
}

/** Refuses the references to tables not among those found at the venue, with one field error each. */
export function refuseUnknownTables(refs: TableRef[], found: ReadonlySet<string>): void {
  const fields: FieldError[] = refs
    .filter((r) => !found.has(r.tableId))
    .map((r) => ({ field: r.field, reason: `no table ${JSON.stringify(r.tableId)} at this venue` }));
  if (fields.length) throw DomainError.invalid(fields);
}

/** The table references of a list field such as a party's or reservation's tableIds. */
export function tableRefs(field: string, tableIds: readonly string[] | undefined): TableRef[] {
  return (tableIds ?? []).map((tableId, i) => ({ field: `${field}.${i}`, tableId }));
}
