-- A counter transaction whose outcome could not be read back from the terminal (failed outcome_unknown) may have
-- charged the card. Until the venue says what its terminal's receipts show (resolution 'charged' or 'not_charged'),
-- it keeps holding what it asked on its order (or on the sale it refunds), so no other terminal or checkout link
-- takes that money a second time.
ALTER TABLE "counter_transactions" ADD COLUMN "resolution" TEXT, ADD COLUMN "resolved_at" TIMESTAMPTZ(3);
-- The hold is read per order on the lock and counter-sale paths; failed rows are not bounded by a state filter.
CREATE INDEX "counter_transactions_location_id_order_id_idx" ON "counter_transactions"("location_id", "order_id");
