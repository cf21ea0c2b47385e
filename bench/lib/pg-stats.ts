import { onMaintenance } from '@app/db';
import { table } from './table';

/** One statement's figures over a scenario, from pg_stat_statements (all databases of the server). */
export interface StatementStats {
  calls: number;
  rows: number;
  execMs: number;
  planMs: number;
  /** Mean execution / planning per call, ms. */
  meanExecMs: number;
  meanPlanMs: number;
  /** Shared buffers hit and WAL records per call. */
  buffersPerCall: number;
  walPerCall: number;
  query: string;
}

/**
 * Empties pg_stat_statements (creating the extension's views in the server's maintenance database first). Throws
 * when the server was not started with the module loaded (a given DATABASE_URL without
 * shared_preload_libraries=pg_stat_statements).
 */
export async function resetStatementStats(url: string): Promise<void> {
  await onMaintenance(url, async (c) => {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
  });
}

/** The costliest statements since the last reset (execution plus planning), the bench's own reads of the view left out. */
export async function topStatements(url: string, limit: number): Promise<StatementStats[]> {
  return onMaintenance(url, async (c) => {
    const { rows } = await c.query<{ calls: string; rows: string; exec: number; plan: number; hit: string; wal: string; query: string }>(
      `SELECT calls, rows, total_exec_time AS exec, total_plan_time AS plan, shared_blks_hit AS hit, wal_records AS wal, query
         FROM pg_stat_statements
        WHERE calls > 0 AND query NOT ILIKE '%pg_stat_statements%'
        ORDER BY total_exec_time + total_plan_time DESC
        LIMIT $1`,
      [limit],
    );
    return rows.map((r) => {
      const calls = Number(r.calls);
      const round = (v: number) => Math.round(v * 1000) / 1000;
      return {
        calls,
        rows: Number(r.rows),
        execMs: round(r.exec),
        planMs: round(r.plan),
        meanExecMs: round(r.exec / calls),
        meanPlanMs: round(r.plan / calls),
        buffersPerCall: Math.round(Number(r.hit) / calls),
        walPerCall: Math.round(Number(r.wal) / calls),
        query: r.query.replace(/\s+/g, ' ').trim(),
      };
    });
  });
}

/** The statements as a table, each query cut to `width` characters. */
export function statementsTable(stats: StatementStats[], width: number): string {
  return table(
    ['query', 'calls', 'rows', 'exec ms', 'ms/call', 'plan ms', 'plan ms/call', 'buffers/call', 'WAL/call'],
    stats.map((s) => [s.query.slice(0, width), s.calls, s.rows, s.execMs.toFixed(0), s.meanExecMs.toFixed(3), s.planMs.toFixed(0), s.meanPlanMs.toFixed(3), s.buffersPerCall, s.walPerCall]),
  );
}
