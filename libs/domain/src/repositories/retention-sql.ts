import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';

/**
 * One batch of a retention pass over `table` (the calling repository's own table): up to `limit` rows matching
 * `where` are deleted, rows another transaction holds are skipped (a concurrent pass or a write in flight), and
 * the number deleted is returned. Rows are picked by ctid, so any table's batch is one statement whatever its key.
 */
export function deleteBatch(db: Tx, table: string, where: Prisma.Sql, limit: number): Promise<number> {
  const t = Prisma.raw(table);
  return db.$executeRaw`DELETE FROM ${t} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${t} WHERE ${where} LIMIT ${limit} FOR UPDATE SKIP LOCKED))`;
}
