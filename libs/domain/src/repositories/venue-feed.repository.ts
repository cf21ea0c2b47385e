import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';
import { batchRowsSql } from './retention-sql';

export interface VenueFeedRow {
  id: bigint;
  tx_id: bigint;
  kind: string;
  entity_type: string;
  entity_id: string;
  data: unknown;
  created_at: Date;
}

/**
 * The read side of venue_feed (rows are written by the aggregates' own writes,
 * shared/write-sql.ts). Location first, as every repository.
 */
export class VenueFeedRepository {
  constructor(private readonly db: Tx) {}

  /**
   * Up to `limit` entries after (tx, id) in (tx_id, id) order, only those of
   * transactions below the reading snapshot's xmin (all finished): see ReadVenueFeed.
   * `expired` when retention deleted an entry after (tx, id) (the location's
   * horizon is past it; never for the start, (0, 0)): then no entries. Both in one statement, one snapshot,
   * so a pass deleting entries meanwhile cannot make a page skip them silently.
   */
  async readAfter(locationId: string, after: { tx: bigint; id: bigint }, limit: number): Promise<{ expired: boolean; rows: VenueFeedRow[] }> {
    const rows = await this.db.$queryRaw<(Omit<VenueFeedRow, 'id'> & { id: bigint | null; expired: boolean })[]>`
      SELECT f.id, f.tx_id, f.kind, f.entity_type, f.entity_id, f.data, f.created_at, h.expired
      FROM (SELECT (${after.tx}::bigint, ${after.id}::bigint) > (0, 0) AND EXISTS (SELECT 1 FROM venue_feed_horizons
                            WHERE location_id = ${locationId}::uuid AND (tx_id, id) > (${after.tx}::bigint, ${after.id}::bigint)) AS expired) h
      LEFT JOIN LATERAL (
        SELECT id, tx_id, kind, entity_type, entity_id, data, created_at
        FROM venue_feed
        WHERE NOT h.expired
          AND location_id = ${locationId}::uuid
          AND tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
          AND (tx_id, id) > (${after.tx}::bigint, ${after.id}::bigint)
        ORDER BY tx_id, id
        LIMIT ${limit}) f ON true`;
    const expired = rows[0]?.expired ?? false;
    return { expired, rows: rows.filter((r): r is typeof r & { id: bigint } => r.id !== null) };
  }

  /**
   * Retention: up to `limit` entries written before `before` deleted, across locations, and each location's
   * horizon moved to the last entry deleted, in the same statement; how many.
   */
  async deleteBefore(before: Date, limit: number): Promise<number> {
    const rows = await this.db.$queryRaw<{ n: number }[]>`
      WITH gone AS (
        DELETE FROM venue_feed WHERE ${batchRowsSql('venue_feed', Prisma.sql`created_at < ${before}`, limit)}
        RETURNING location_id, tx_id, id),
      last AS (SELECT DISTINCT ON (location_id) location_id, tx_id, id FROM gone ORDER BY location_id, tx_id DESC, id DESC),
      moved AS (
        INSERT INTO venue_feed_horizons AS h (location_id, tx_id, id) SELECT location_id, tx_id, id FROM last
        ON CONFLICT (location_id) DO UPDATE SET tx_id = EXCLUDED.tx_id, id = EXCLUDED.id, pruned_at = now()
          WHERE (EXCLUDED.tx_id, EXCLUDED.id) > (h.tx_id, h.id))
      SELECT count(*)::int AS n FROM gone`;
    return rows[0]?.n ?? 0;
  }
}
