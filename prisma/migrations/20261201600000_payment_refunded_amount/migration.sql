-- What was refunded of a payment so far (minor units, cumulative as Dojo's refundedAmount).
-- A Recorded payment counts net of it (core/rules countedAmounts); a full refund makes it Refunded.
ALTER TABLE "payments" ADD COLUMN "refunded_amount" BIGINT NOT NULL DEFAULT 0;
