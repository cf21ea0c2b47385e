import type { Prisma, SqlTxConnection } from '@app/db';
import type { Tx } from '../shared/tx';
import type { OrderReadCache } from '../orders/order-read-cache';

/**
 * How repository code reaches the round-trip savers of a planned change's
 * transaction on pg (SqlRunner's SqlTxConnection: statements sent together,
 * a last write sent with COMMIT) through the handle it is given. On any other
 * handle (Prisma's transaction, the plain client) there is none, and the
 * callers run their statements one by one, as before.
 */

/** The key under which runPlannedTransaction's handle carries its SqlTxConnection. */
export const SQL_TX: unique symbol = Symbol('epos-relay.sql-tx');

/** The pg transaction behind `tx`, when it is runPlannedTransaction's handle. */
export function sqlTxOf(tx: Tx): SqlTxConnection | undefined {
  return (tx as unknown as { [SQL_TX]?: SqlTxConnection })[SQL_TX];
}

/** The key under which rawOnPg's handle carries how it sends statements together outside a transaction (SqlReads). */
export const SQL_READS: unique symbol = Symbol('epos-relay.sql-reads');

/** Statements sent together outside a transaction: SqlRunner's queryTogether, or readTogether on a reads-only handle. */
export interface SqlReads {
  queryTogether(statements: Prisma.Sql[]): Promise<unknown[][]>;
}

/** How rawOnPg's handle sends statements together (the request path's reads), when it is one. */
export function sqlReadsOf(tx: Tx): SqlReads | undefined {
  return (tx as unknown as { [SQL_READS]?: SqlReads })[SQL_READS];
}

/** The key under which rawOnPg's handle carries the gateway's copy of the orders it read (OrderReadCache), when it has one. */
export const ORDER_CACHE: unique symbol = Symbol('epos-relay.order-cache');

/** The read cache behind `tx`: only a gateway's reads handle has one; a transaction never does. */
export function orderCacheOf(tx: Tx): OrderReadCache | undefined {
  return (tx as unknown as { [ORDER_CACHE]?: OrderReadCache })[ORDER_CACHE];
}

const FINAL_WRITES = new WeakSet<Prisma.Sql>();

/**
 * Marks a write step (a CTE) as one that ends its change: the statement that
 * carries it (runWrites) may go out together with COMMIT, its failure being
 * the transaction's. RpcDispatcher marks the stored response's CTE so, which
 * by contract (ExecContext.storeResponse) is folded into the last write.
 */
export function finalWrite(step: Prisma.Sql): Prisma.Sql {
  FINAL_WRITES.add(step);
  return step;
}

export function isFinalWrite(step: Prisma.Sql): boolean {
  return FINAL_WRITES.has(step);
}

/** The count in the rows of a `SELECT count(*)::int AS n ...` statement sent with others (readTogether). */
export function countOf(rows: unknown): number {
  return Number((rows as { n: number | string }[])[0]?.n ?? 0);
}
