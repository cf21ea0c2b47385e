import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';

/**
 * The rows of one retention batch over `table` (the calling repository's own table), as a WHERE condition: up to
 * `limit` rows matching `where`, skipping rows another transaction holds (a concurrent pass or a write in flight).
 * Rows are picked by ctid, so any table's batch is one statement whatever its key.
 */
export function batchRowsSql(table: string, where: Prisma.Sql, limit: number): Prisma.Sql {
  const t = Prisma.raw(table);
  return Prisma.sql`ctid = ANY (ARRAY(SELECT ctid FROM ${t} WHERE ${where} LIMIT ${limit} FOR UPDATE SKIP LOCKED))`;
}

/** One retention batch deleted (batchRowsSql); the number deleted. */
export function deleteBatch(db: Tx, table: string, where: Prisma.Sql, limit: number): Promise<number> {
  return db.$executeRaw`DELETE FROM ${Prisma.raw(table)} WHERE ${batchRowsSql(table, where, limit)}`;
}
