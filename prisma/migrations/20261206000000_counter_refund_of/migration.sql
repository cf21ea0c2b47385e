-- A counter refund may name the counter sale it refunds: once the terminal approves it, the refund is applied to the
-- payment that sale recorded on its order (payments.refunded_amount, the order's totals). The index serves what is
-- refunded, and still being refunded, of one sale.
ALTER TABLE "counter_transactions" ADD COLUMN "refund_of" UUID;

CREATE INDEX "counter_transactions_location_id_refund_of_idx" ON "counter_transactions"("location_id", "refund_of");
