/**
 * A write refused by a unique or foreign-key constraint, in the repositories'
 * terms: use-cases catch this (e.g. "a software house with that id exists")
 * and never see the database driver's error codes, which are read only here.
 */
export class ConstraintViolation extends Error {
  constructor(
    readonly kind: 'unique' | 'foreign_key',
    cause: unknown,
  ) {
    super(`${kind === 'unique' ? 'unique' : 'foreign key'} constraint violated`, { cause });
    this.name = 'ConstraintViolation';
  }
}

/**
 * A statement ran past its transaction's bound (unit-of-work waitBoundMs: statement_timeout, SQLSTATE 57014): in
 * practice it waited for a row (or key) another transaction held for longer than the caller waits. Nothing of the
 * transaction was committed; the same request may be sent again.
 */
export class WaitTimedOut extends Error {
  constructor(cause: unknown) {
    super('a statement ran past its bound, waiting for what another transaction holds', { cause });
    this.name = 'WaitTimedOut';
  }
}

type DriverError = { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } }; cause?: { originalCode?: unknown; code?: unknown } } | null;

/**
 * Postgres' SQLSTATE of a failed statement, however it came: on pg directly (SqlRunner), through the pg adapter
 * (cause.originalCode), or as a raw statement through Prisma's client, P2010 ("Raw query failed") with the driver
 * adapter's error in meta. Prisma's own code when there is none.
 */
function sqlstateOf(err: unknown): unknown {
  const e = err as DriverError;
  if (!e || typeof e !== 'object') return undefined;
  return e.cause?.originalCode ?? e.cause?.code ?? e.meta?.driverAdapterError?.cause?.originalCode ?? e.code;
}

/** Prisma's codes (P2002, P2003), or Postgres' SQLSTATE (23505, 23503). */
function violationKind(err: unknown): ConstraintViolation['kind'] | undefined {
  const code = (err as DriverError)?.code;
  const sqlstate = sqlstateOf(err);
  if (code === 'P2002' || sqlstate === '23505') return 'unique';
  if (code === 'P2003' || sqlstate === '23503') return 'foreign_key';
  return undefined;
}

/** True for a statement cancelled by the transaction's statement_timeout (57014, query_canceled). */
export function isWaitTimeout(err: unknown): boolean {
  return sqlstateOf(err) === '57014';
}

/** Runs a repository write; a unique or foreign-key violation is rethrown as a ConstraintViolation. */
export async function constrained<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof ConstraintViolation) throw err; // an inner write's, already in these terms
    const kind = violationKind(err);
    throw kind ? new ConstraintViolation(kind, err) : err;
  }
}
