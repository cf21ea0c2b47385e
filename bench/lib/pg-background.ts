import type { PrismaClient } from '@app/db';

/**
 * Postgres' own work that is not a request's: checkpoints (the server's, from pg_stat_checkpointer) and autovacuum's
 * runs on the bench database's tables (pg_stat_user_tables). Read before and after a step of load, the difference
 * says whether a slow step shared its seconds with one of them: a tail spike that comes with a checkpoint's sync or a
 * vacuum of a hot table is the server's housekeeping, one that comes with neither is not.
 */
export interface PgBackground {
  /** Checkpoints completed, buffers they wrote, and their write and sync phases' time (ms). */
  checkpoints: number;
  checkpointBuffers: number;
  checkpointWriteMs: number;
  checkpointSyncMs: number;
  /** Sessions opened on the bench database so far (pg_stat_database.sessions: each a new backend, with cold caches). */
  sessions: number;
  /** Per table: autovacuum and autoanalyze runs so far. */
  tables: Record<string, { vacuums: number; analyzes: number }>;
}

/** What happened between two readings: counts, and the tables autovacuum visited (`name: vacuum`, `name: analyze`). */
export interface PgBackgroundDelta {
  checkpoints: number;
  checkpointBuffers: number;
  checkpointWriteMs: number;
  checkpointSyncMs: number;
  /** Connections opened to the bench database (new backends). */
  sessions: number;
  autovacuum: string[];
}

export async function readPgBackground(prisma: PrismaClient): Promise<PgBackground> {
  // pg_stat_checkpointer's num_done (Postgres 17+) counts checkpoints completed; num_timed also counts skipped ones.
  const [cp = { done: 0n, buffers: 0n, write: 0, sync: 0 }] = await prisma.$queryRawUnsafe<{ done: bigint; buffers: bigint; write: number; sync: number }[]>(
    'SELECT num_done AS done, buffers_written AS buffers, write_time AS write, sync_time AS sync FROM pg_stat_checkpointer',
  );
  const [db = { sessions: 0n }] = await prisma.$queryRawUnsafe<{ sessions: bigint }[]>('SELECT sessions FROM pg_stat_database WHERE datname = current_database()');
  const rows = await prisma.$queryRawUnsafe<{ name: string; vacuums: bigint; analyzes: bigint }[]>(
    'SELECT relname AS name, autovacuum_count AS vacuums, autoanalyze_count AS analyzes FROM pg_stat_user_tables',
  );
  return {
    checkpoints: Number(cp.done),
    checkpointBuffers: Number(cp.buffers),
    checkpointWriteMs: Number(cp.write),
    checkpointSyncMs: Number(cp.sync),
    sessions: Number(db.sessions),
    tables: Object.fromEntries(rows.map((r) => [r.name, { vacuums: Number(r.vacuums), analyzes: Number(r.analyzes) }])),
  };
}

export function pgBackgroundDelta(a: PgBackground, b: PgBackground): PgBackgroundDelta {
  const autovacuum: string[] = [];
  for (const [name, t] of Object.entries(b.tables)) {
    const before = a.tables[name] ?? { vacuums: 0, analyzes: 0 };
    if (t.vacuums > before.vacuums) autovacuum.push(`${name}: vacuum`);
    if (t.analyzes > before.analyzes) autovacuum.push(`${name}: analyze`);
  }
  return {
    checkpoints: b.checkpoints - a.checkpoints,
    checkpointBuffers: b.checkpointBuffers - a.checkpointBuffers,
    checkpointWriteMs: Math.round(b.checkpointWriteMs - a.checkpointWriteMs),
    checkpointSyncMs: Math.round(b.checkpointSyncMs - a.checkpointSyncMs),
    sessions: b.sessions - a.sessions,
    autovacuum: autovacuum.sort(),
  };
}

/** One line for a step's log: empty when Postgres did neither. */
export function describePgBackground(d: PgBackgroundDelta): string {
  const parts: string[] = [];
  if (d.checkpoints > 0) parts.push(`${d.checkpoints} checkpoint(s): ${d.checkpointBuffers} buffers, write ${d.checkpointWriteMs} ms, sync ${d.checkpointSyncMs} ms`);
  if (d.sessions > 0) parts.push(`${d.sessions} new connection(s)`);
  if (d.autovacuum.length > 0) parts.push(`autovacuum ${d.autovacuum.join(', ')}`);
  return parts.join('; ');
}
