-- Retention (libs/domain/src/retention): finished records are deleted after their period. The venue feed keeps, per
-- location, the last entry deleted, so a POS reading from a cursor before it is told its cursor expired instead of
-- silently missing entries.
CREATE TABLE "venue_feed_horizons" (
    "location_id" UUID NOT NULL,
    "tx_id" BIGINT NOT NULL,
    "id" BIGINT NOT NULL,
    "pruned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "venue_feed_horizons_pkey" PRIMARY KEY ("location_id")
);

ALTER TABLE "venue_feed_horizons" ADD CONSTRAINT "venue_feed_horizons_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Old feed entries, found by age across locations: entries arrive in created_at order, so a BRIN index finds them
-- for a few pages of index and costs the feed's inserts next to nothing.
CREATE INDEX "venue_feed_created_at_idx" ON "venue_feed" USING BRIN ("created_at");
