-- A counter transaction whose outcome could not be read back from the terminal (failed outcome_unknown) may have
-- charged the card. Until the venue says what its terminal's receipts show (resolution 'charged' or 'not_charged'),
-- it keeps holding what it asked on its order (or on the sale it refunds), so no other terminal or checkout link
-- takes that money a second time.
ALTER TABLE "counter_transactions" ADD COLUMN "resolution" TEXT, ADD COLUMN "resolved_at" TIMESTAMPTZ(3);
-- The hold is read per order on the lock and counter-sale paths; failed rows are not bounded by a state filter.
CREATE INDEX "counter_transactions_location_id_order_id_idx" ON "counter_transactions"("location_id", "order_id");
-- Transactions that failed outcome_unknown before this release were settled under the advice of their day (check the
-- terminal's receipts before charging again), so they do not start holding now: released, without a resolution
-- (the venue may still resolve one as charged to record its payment).
UPDATE "counter_transactions" SET "resolved_at" = "finished_at"
 WHERE "state" = 'failed' AND "failure" = 'outcome_unknown' AND "resolution" IS NULL;
