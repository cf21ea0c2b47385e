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

/** Prisma's codes (P2002, P2003; P2010 carrying the driver adapter's SQLSTATE), or Postgres' SQLSTATE (23505, 23503) where a raw statement failed through the pg adapter or on pg directly (SqlRunner). */
function violationKind(err: unknown): ConstraintViolation['kind'] | undefined {
  const e = err as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } }; cause?: { originalCode?: unknown; code?: unknown } } | null;
  if (!e || typeof e !== 'object') return undefined;
  // A raw statement through Prisma's client fails as P2010 ("Raw query failed") with the driver adapter's error in meta.
  const sqlstate = e.cause?.originalCode ?? e.cause?.code ?? e.meta?.driverAdapterError?.cause?.originalCode ?? e.code;
  if (e.code === 'P2002' || sqlstate === '23505') return 'unique';
  if (e.code === 'P2003' || sqlstate === '23503') return 'foreign_key';
  return undefined;
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
