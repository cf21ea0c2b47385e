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
 * error per unknown table (the same shape as a table's unknown area), except the
 * ones the stored row already names (`alreadyNamed`, read only when some table is
 * unknown: a table deleted since does not stop the row being replaced). Run inside
 * the write's transaction: the tables found are key-share-locked until it commits,
 * so a table cannot be deleted between the check and the commit (renaming it still can).
 */
export async function requireVenueTables(
  tables: TablesRepository,
  locationId: string,
  refs: TableRef[],
  alreadyNamed?: () => Promise<readonly string[]>,
): Promise<void> {
  if (refs.length === 0) return;
  const ids = [...new Set(refs.map((r) => r.tableId))];
  const found = await tables.lockExistingTableIds(locationId, ids);
  if (ids.every((id) => found.has(id))) return;
  refuseUnknownTables(refs, found, new Set(alreadyNamed ? await alreadyNamed() : []));
}

/** Refuses the references to tables not among those found at the venue (nor among `kept`), with one field error each. */
export function refuseUnknownTables(refs: TableRef[], found: ReadonlySet<string>, kept: ReadonlySet<string> = new Set()): void {
  const fields: FieldError[] = refs
    .filter((r) => !found.has(r.tableId) && !kept.has(r.tableId))
    .map((r) => ({ field: r.field, reason: `no table ${JSON.stringify(r.tableId)} at this venue` }));
  if (fields.length) throw DomainError.invalid(fields);
}

/** The table references of a list field such as a party's or reservation's tableIds. */
export function tableRefs(field: string, tableIds: readonly string[] | undefined): TableRef[] {
  return (tableIds ?? []).map((tableId, i) => ({ field: `${field}.${i}`, tableId }));
}
