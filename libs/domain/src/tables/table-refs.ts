import { DomainRefusal } from '../core/refusal';
import { tablesRepo } from '../repositories/tables.repository';
import type { Tx } from '../shared/tx';

/** Throws NotFound naming the first table id that does not exist at this location. */
export async function requireTables(db: Tx, locationId: string, tableIds: readonly string[]): Promise<void> {
  const unique = [...new Set(tableIds)];
  const have = await tablesRepo(db).existingTableIds(locationId, unique);
  const missing = unique.find((id) => !have.has(id));
  if (missing !== undefined) throw DomainRefusal.notFound('table', missing);
}
