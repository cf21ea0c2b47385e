-- The venue feed is handed out in commit-safe order: (tx_id, id) below the
-- oldest running transaction, so an entry whose bigserial id was taken by a
-- transaction that commits late is never skipped by a reader's cursor.
ALTER TABLE "venue_feed" ADD COLUMN "tx_id" BIGINT NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint;

CREATE INDEX "venue_feed_location_id_tx_id_id_idx" ON "venue_feed"("location_id", "tx_id", "id");
