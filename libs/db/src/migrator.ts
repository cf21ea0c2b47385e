import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { repoRoot } from '@app/infra';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  /** True when a statement gave up waiting for a lock (lock_timeout): trying again later may succeed. */
  constructor(message: string, readonly lockTimeout = false) {
    super(message);
  }
}

export interface MigrateOptions {
  /**
   * How long one statement of a migration waits for a lock another transaction holds (ms) before the migration
   * gives up and is tried again. A migration that waits on a busy table (an ALTER behind a long transaction) would
   * otherwise make every later query of that table wait behind it, stalling the apps still serving while it runs.
   */
  lockTimeoutMs?: number;
  /** How long a migration is tried again after such a give-up (ms), doubling the pause from 250 ms to 5 s. */
  retryForMs?: number;
  /** Told of each give-up that will be tried again. */
  onLockRetry?: (migration: string, attempt: number, waitMs: number) => void;
}

/** SQLSTATE lock_not_available: a statement gave up waiting at lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Reads prisma/migrations/<timestamp>_<name>/migration.sql in name order. */
export function loadMigrations(dir = join(repoRoot(), 'prisma', 'migrations')): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

// Prisma Migrate's own bookkeeping table, so that `prisma migrate deploy` (where
// the schema engine is available) sees these migrations as applied and agrees
// on their checksums.
const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

// Any constant works; it only has to be the same for every migrator.
const ADVISORY_LOCK_KEY = 72707369;

/**
 * Applies pending migrations, each in its own transaction, so that several
 * processes starting at once migrate exactly once. Every transaction first takes
 * a transaction-scoped advisory lock (pg_advisory_xact_lock: released by its
 * COMMIT or ROLLBACK), then re-reads whether the migration is in place. Nothing
 * is held between transactions, so this also works through PgBouncer in
 * transaction pooling mode, where a session lock could stay behind on a pooled
 * server connection. A migration whose file changed after it was applied stops the run.
 * A statement waits at most `lockTimeoutMs` for a lock (MigrateOptions); the migration is then rolled back and
 * tried again for up to `retryForMs`, so it never queues the apps' queries behind it for long.
 */
export async function migrate(databaseUrl: string, migrations = loadMigrations(), opts: MigrateOptions = {}): Promise<MigrationReport> {
  const lockTimeoutMs = opts.lockTimeoutMs ?? 5_000;
  const retryForMs = opts.retryForMs ?? 120_000;
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  /** Runs `fn` in a transaction holding the migrators' lock. */
  const locked = async <T>(fn: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK_KEY]);
      // After the migrators' own lock, which a second migrator waits for as long as the first one runs.
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      const out = await fn();
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined); // the connection may be gone; the error below says why
      throw err;
    }
  };
  const prior = async (name: string) =>
    (
      await client.query<{ checksum: string; finished_at: Date | null }>(
        'SELECT checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL AND migration_name = $1 LIMIT 1',
        [name],
      )
    ).rows[0];
  try {
    await locked(() => client.query(BOOKKEEPING));
    for (const m of migrations) {
      const until = Date.now() + retryForMs;
      let wait = 250;
      for (let attempt = 1; ; attempt++) {
        try {
          (await applyOne(m) ? report.applied : report.alreadyApplied).push(m.name);
          break;
        } catch (err) {
          if (!(err instanceof MigrationError && err.lockTimeout) || Date.now() + wait > until) throw err;
          opts.onLockRetry?.(m.name, attempt, wait);
          await new Promise((r) => setTimeout(r, wait));
          wait = Math.min(wait * 2, 5_000);
        }
      }
    }
    return report;
  } finally {
    await client.end();
  }

  /** Applies `m` unless it is in place (true when applied now). */
  function applyOne(m: Migration): Promise<boolean> {
    return locked(async () => {
      const row = await prior(m.name);
      if (row) {
        if (!row.finished_at) throw new MigrationError(`migration ${m.name} started earlier but never finished; fix the database by hand`);
        if (row.checksum !== m.checksum) throw new MigrationError(`migration ${m.name} was edited after it was applied (checksum differs)`);
        return false;
      }
      try {
        await client.query(m.sql);
      } catch (err) {
        const lockTimeout = (err as { code?: string }).code === LOCK_NOT_AVAILABLE;
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}${lockTimeout ? ` (waited ${lockTimeoutMs} ms for a lock)` : ''}`, lockTimeout);
      }
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
         VALUES ($1, $2, now(), $3, 1)`,
        [randomUUID(), m.checksum, m.name],
      );
      return true;
    });
  }
}
