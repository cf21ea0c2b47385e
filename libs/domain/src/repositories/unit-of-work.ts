import type { PrismaClient } from '@app/db';
import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';
import { ordersRepo } from './orders.repository';

export interface TransactionOptions {
  /** Longest wait for a connection from the pool [Prisma's default]. */
  maxWait?: number;
  /** Longest the transaction may stay open [Prisma's default]. */
  timeout?: number;
}

/**
 * Runs `fn` in one interactive transaction: the only place outside a repository's
 * own methods that opens one. `fn` hands the transaction client to repositories
 * (ordersRepo(tx), dojoEventsRepo(tx), ...), never queries it itself.
 */
export function runInTransaction<T>(prisma: PrismaClient, fn: (tx: Prisma.TransactionClient) => Promise<T>, opts?: TransactionOptions): Promise<T> {
  return prisma.$transaction(fn, opts);
}

/**
 * The first statement of a state-changing request's transaction: sets the statement
 * timeout and tries, in order, the advisory locks of `keys` and then the row lock that
 * `rowLockNotTaken` expresses (true when not taken), without waiting. Returns the
 * index of the first lock not taken (keys.length + 1 when all were).
 */
export async function setTimeoutAndTryLocks(tx: Tx, timeoutMs: string, keys: string[], rowLockNotTaken?: Prisma.Sql): Promise<number> {
  const steps = keys.map((k, i) => Prisma.sql`WHEN NOT pg_try_advisory_xact_lock(hashtextextended(${k}, 0)) THEN ${i}::int`);
  if (rowLockNotTaken) steps.push(Prisma.sql`WHEN ${rowLockNotTaken} THEN ${keys.length}::int`);
  const [row] = await tx.$queryRaw<{ held: number }[]>`
    SELECT set_config('statement_timeout', ${timeoutMs}, true) AS t, CASE ${Prisma.join(steps, ' ')} ELSE ${steps.length}::int END AS held`;
  return Number(row!.held);
}

/** Waits for a transaction-scoped advisory lock (under the transaction's statement timeout). */
export async function waitForAdvisoryLock(tx: Tx, key: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
}

/**
 * Takes a change's plan (rpc/exec-context MutationPlan) inside a transaction that
 * is already open, for a use-case that runs other use-cases' changes in its own
 * transaction (a table's orders one by one): waits for the plan's advisory
 * locks in order, then the order's row lock, then reads the plan's `read`.
 */
export async function takePlanInTransaction(tx: Tx, locationId: string, plan: { advisoryKeys?: string[]; orderId?: string; read?: Prisma.Sql }): Promise<unknown> {
  for (const key of plan.advisoryKeys ?? []) await waitForAdvisoryLock(tx, key);
  if (plan.orderId !== undefined) {
    await ordersRepo(tx).lockRowIfExists(locationId, plan.orderId);
  }
  if (!plan.read) return undefined;
  const [row] = await tx.$queryRaw<{ pre: unknown }[]>`SELECT ${plan.read} AS pre`;
  return row?.pre;
}
