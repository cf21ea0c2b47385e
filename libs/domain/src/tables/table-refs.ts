import { DomainRefusal } from '../core/refusal';
import { tablesToFind } from '../core/rules';
import { tablesRepo } from '../repositories/tables.repository';
import type { Tx } from '../shared/tx';

/**
 * Throws NotFound naming the first table id that does not exist at this location, leaving out the ones the stored row
 * already names (`alreadyNamed`: a table the venue deleted since does not stop a party's or reservation's update;
 * core/rules tablesToFind).
 */
export async function requireTables(db: Tx, locationId: string, tableIds: readonly string[], alreadyNamed: readonly string[] = []): Promise<void> {
  const wanted = tablesToFind(tableIds, alreadyNamed);
  if (wanted.length === 0) return;
  const have = await tablesRepo(db).existingTableIds(locationId, wanted);
  const missing = wanted.find((id) => !have.has(id));
  if (missing !== undefined) throw DomainRefusal.notFound('table', missing);
}
