import { EposError } from '@app/contracts';
import type { Tx } from '../shared/tx';

/** Throws NotFound naming the first table id that does not exist at this location. */
export async function requireTables(db: Tx, locationId: string, tableIds: readonly string[]): Promise<void> {
  const unique = [...new Set(tableIds)];
  const found = await db.diningTable.findMany({ where: { locationId, id: { in: unique } }, select: { id: true } });
  const have = new Set(found.map((t) => t.id));
  const missing = unique.find((id) => !have.has(id));
  if (missing !== undefined) throw EposError.notFound('table', missing);
}
