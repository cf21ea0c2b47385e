import type { PrismaClient, SqlConnection } from '@app/db';
import { Prisma, sqlRunner } from '@app/db';
import type { Tx } from '../shared/tx';
import { isWaitTimeout, WaitTimedOut } from './constraint-violation';
import { ordersRepo } from './orders.repository';
import type { SqlReads } from './sql-tx';
import { ORDER_CACHE, SQL_READS, SQL_TX, sqlReadsOf, sqlTxOf } from './sql-tx';
import type { OrderReadCache } from '../orders/order-read-cache';

export interface TransactionOptions {
  /** Longest wait for a connection from the pool [Prisma's default]. */
  maxWait?: number;
  /**
   * Longest the transaction may stay open [Prisma's default]. It is only checked between statements: a statement
   * waiting for a lock goes on waiting (see waitBoundMs).
   */
  timeout?: number;
  /**
   * Longest any one statement of the transaction may run (statement_timeout, set by its first statement): in practice
   * how long it waits for a row or key another transaction holds. A statement past it fails the transaction with
   * WaitTimedOut. Not lock_timeout: that bounds each lock wait on its own, and a statement queued behind other
   * waiters for the same row waits once for its place in the queue and again for the row. Unbounded when absent.
   */
  waitBoundMs?: number;
}

/** The statement that bounds each later statement of its transaction (waitBoundMs; set_config local: it ends with the transaction). */
export function waitBoundSql(ms: number): Prisma.Sql {
  return Prisma.sql`SELECT set_config('statement_timeout', ${`${Math.max(1, Math.round(ms))}ms`}, true) AS statement_timeout`;
}

/** A transaction's failure, with a statement cancelled by its statement_timeout as WaitTimedOut. */
export async function waitsBounded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw isWaitTimeout(err) ? new WaitTimedOut(err) : err;
  }
}

/**
 * Runs `fn` in one interactive transaction: the only place outside a repository's
 * own methods that opens one. `fn` hands the transaction client to repositories
 * (ordersRepo(tx), dojoEventsRepo(tx), ...), never queries it itself. With
 * `waitBoundMs`, one statement before fn's bounds the others.
 */
export function runInTransaction<T>(prisma: PrismaClient, fn: (tx: Prisma.TransactionClient) => Promise<T>, opts?: TransactionOptions): Promise<T> {
  const { waitBoundMs, ...prismaOpts } = opts ?? {};
  if (waitBoundMs === undefined) return prisma.$transaction(fn, prismaOpts);
  return waitsBounded(() =>
    prisma.$transaction(async (tx) => {
      await tx.$queryRaw(waitBoundSql(waitBoundMs));
      return fn(tx);
    }, prismaOpts),
  );
}

/** A statement from $queryRaw's two call forms: a tagged template, or one Prisma.Sql. */
function statement(q: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql {
  return q instanceof Prisma.Sql ? q : Prisma.sql(q, ...(values as Prisma.Sql[]));
}

/** $queryRaw and $executeRaw (the calls the repositories' raw statements make) on one SQL connection. */
function rawCalls(conn: SqlConnection) {
  return {
    $queryRaw: (q: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => conn.query(statement(q, values)),
    $executeRaw: (q: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => conn.execute(statement(q, values)),
  };
}

/**
 * A handle for hot paths outside transactions (the request path's reads, the
 * webhook's insert of an event): Prisma's client, except that the
 * repositories' raw statements ($queryRaw, $executeRaw) go straight to pg
 * (SqlRunner on Prisma's own pool), each on its own as Prisma runs them.
 * Same statements, same rows, no Prisma runtime per round trip. Model calls
 * still go through Prisma. The client itself when it has no SqlRunner.
 *
 * With `onlyReads` (a request that only reads), $queryRaw goes to
 * SqlRunner.read: under load it may share a round trip with other requests'
 * reads. Nothing that writes may run on such a handle.
 *
 * With `orderCache` (a gateway's reads, GATEWAY_READ_CACHE), OrdersRepository's
 * find and search on this handle answer from the cache when they can.
 */
export function rawOnPg(prisma: PrismaClient, opts: { onlyReads?: boolean; orderCache?: OrderReadCache } = {}): Tx {
  const sql = sqlRunner(prisma);
  if (!sql) return prisma;
  const raw = rawCalls(sql);
  let together: SqlReads = sql;
  if (opts.onlyReads) {
    raw.$queryRaw = (q: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => sql.read(statement(q, values));
    together = { queryTogether: (statements) => sql.readTogether(statements) };
  }
  return new Proxy(prisma, {
    get(target, prop) {
      if (prop === '$queryRaw' || prop === '$executeRaw') return raw[prop];
      if (prop === SQL_READS) return together;
      if (prop === ORDER_CACHE) return opts.orderCache;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A planned change's transaction used something only Prisma has (a model call): it is rolled back and run on Prisma. */
class NeedsPrisma extends Error {
  constructor(what: string) {
    super(`${what} is not available on the SQL transaction; the transaction runs again on Prisma`);
  }
}

/**
 * Runs a planned change's transaction (RpcDispatcher: a use-case with a plan,
 * whose statements are the repositories' raw SQL) on pg directly, BEGIN ...
 * COMMIT on one pooled connection, without Prisma's interactive-transaction
 * machinery. The handle given to `fn` has $queryRaw and $executeRaw only. If
 * `fn` reaches for anything else (a Prisma model call: RecordOrderPayment
 * applying Dojo events that waited for the payment), that call throws, the
 * transaction rolls back whatever `fn` did with the error, and the whole of
 * `fn` runs again in a Prisma transaction: nothing of the first run was
 * committed. Prisma's transaction outright when the client has no SqlRunner.
 *
 * With `waitBoundMs`, its statement_timeout goes out with BEGIN (no round trip of its own) and a statement past it
 * fails the transaction with WaitTimedOut.
 */
export async function runPlannedTransaction<T>(
  prisma: PrismaClient,
  fn: (tx: Prisma.TransactionClient) => Promise<T>,
  opts: Required<Pick<TransactionOptions, 'maxWait' | 'timeout'>> & Pick<TransactionOptions, 'waitBoundMs'>,
): Promise<T> {
  if (opts.waitBoundMs === undefined) return runPlanned(prisma, fn, opts);
  return waitsBounded(() => runPlanned(prisma, fn, opts));
}

async function runPlanned<T>(
  prisma: PrismaClient,
  fn: (tx: Prisma.TransactionClient) => Promise<T>,
  opts: Required<Pick<TransactionOptions, 'maxWait' | 'timeout'>> & Pick<TransactionOptions, 'waitBoundMs'>,
): Promise<T> {
  const sql = sqlRunner(prisma);
  if (!sql) return runInTransaction(prisma, fn, opts);
  let needsPrisma: NeedsPrisma | undefined;
  try {
    return await sql.transaction(async (conn) => {
      if (opts.waitBoundMs !== undefined) conn.executeWithCommit(waitBoundSql(opts.waitBoundMs));
      const raw = rawCalls(conn);
      const tx = new Proxy(raw, {
        get(target, prop) {
          if (prop === '$queryRaw' || prop === '$executeRaw') return target[prop];
          if (prop === SQL_TX) return conn; // the round-trip savers (sql-tx.ts)
          // Not a thenable (so awaiting the handle is harmless); symbols are inspection, not calls.
          if (prop === 'then' || typeof prop === 'symbol') return undefined;
          throw (needsPrisma = new NeedsPrisma(`tx.${String(prop)}`));
        },
      }) as unknown as Prisma.TransactionClient;
      const out = await fn(tx);
      // Even when fn caught the model call's error, what it did must not be committed half done.
      if (needsPrisma) throw needsPrisma;
      return out;
    }, opts);
  } catch (err) {
    if (!needsPrisma) throw err;
    return runInTransaction(prisma, fn, opts);
  }
}

/**
 * The first statement of a state-changing request's transaction: sets the statement
 * timeout and tries, in order, the advisory locks of `keys` and then the row lock that
 * `rowLockNotTaken` expresses (true when not taken), without waiting. Its single row's
 * `held` is the index of the first lock not taken (all taken: keys.length, plus 1 with
 * a row lock).
 *
 * It also marks the transaction's changes to orders as told by the gateway
 * (`epos_relay.told_by_gateway`): the order tables' triggers do not announce them
 * (migration 20261203000000_order_change_notify), since the gateway that sent the
 * request tells its read cache when it answers (RequestDispatcher, OrderReadCache).
 */
function tryLocksSql(timeoutMs: string, keys: string[], rowLockNotTaken?: Prisma.Sql): { sql: Prisma.Sql; all: number } {
  const steps = keys.map((k, i) => Prisma.sql`WHEN NOT pg_try_advisory_xact_lock(hashtextextended(${k}, 0)) THEN ${i}::int`);
  if (rowLockNotTaken) steps.push(Prisma.sql`WHEN ${rowLockNotTaken} THEN ${keys.length}::int`);
  return {
    sql: Prisma.sql`SELECT set_config('statement_timeout', ${timeoutMs}, true) AS t, set_config('epos_relay.told_by_gateway', 'on', true) AS g,
      CASE ${Prisma.join(steps, ' ')} ELSE ${steps.length}::int END AS held`,
    all: steps.length,
  };
}

/**
 * Opens a planned change: the statement timeout and the try of its locks
 * (tryLocksSql), and `read`, the change's first read. On pg
 * (runPlannedTransaction) both go out with BEGIN in one round trip; on
 * Prisma the read follows the try. The read's rows are given only when every
 * lock was taken: a read that ran while one was missing saw the data before
 * its holder's change, so it is discarded (`rows` undefined), and the caller
 * waits for the missing locks and reads again.
 */
export async function tryLocksAndRead<R>(
  tx: Tx,
  timeoutMs: string,
  keys: string[],
  rowLockNotTaken: Prisma.Sql | undefined,
  read: Prisma.Sql,
): Promise<{ held: number; rows: R[] | undefined }> {
  const locks = tryLocksSql(timeoutMs, keys, rowLockNotTaken);
  const sql = sqlTxOf(tx);
  if (!sql) {
    const [row] = await tx.$queryRaw<{ held: number }[]>(locks.sql);
    const held = Number(row!.held);
    return { held, rows: held === locks.all ? await tx.$queryRaw<R[]>(read) : undefined };
  }
  const [lockRows, readRows] = await sql.queryTogether([locks.sql, read]);
  const held = Number((lockRows![0] as { held: number }).held);
  return { held, rows: held === locks.all ? (readRows as R[]) : undefined };
}

/**
 * Runs `statements` in order and gives each one's rows: in the caller's transaction, or on the request path's
 * reads. On pg they go out together in one round trip: in a planned change's transaction (runPlannedTransaction,
 * with BEGIN when they are the transaction's first), or on one pooled connection for the reads' handle (rawOnPg:
 * SqlRunner.queryTogether). Postgres still runs them one after the other, so a statement that waits for a lock
 * holds back the reads behind it until it is granted. Elsewhere (Prisma) they run one by one.
 */
export async function readTogether(tx: Tx, statements: Prisma.Sql[]): Promise<unknown[][]> {
  const sql = sqlTxOf(tx) ?? sqlReadsOf(tx);
  if (sql) return sql.queryTogether(statements);
  const out: unknown[][] = [];
  for (const s of statements) out.push(await tx.$queryRaw<unknown[]>(s));
  return out;
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
