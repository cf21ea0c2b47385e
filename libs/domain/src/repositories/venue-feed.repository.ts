import type { Tx } from '../shared/tx';

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
   */
  async readAfter(locationId: string, after: { tx: bigint; id: bigint }, limit: number): Promise<VenueFeedRow[]> {
    return this.db.$queryRaw<VenueFeedRow[]>`
      SELECT id, tx_id, kind, entity_type, entity_id, data, created_at
      FROM venue_feed
      WHERE location_id = ${locationId}::uuid
        AND tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
        AND (tx_id, id) > (${after.tx}::bigint, ${after.id}::bigint)
      ORDER BY tx_id, id
      LIMIT ${limit}`;
  }
}
