-- Cashback a card machine hands out with a pay-at-table payment (the Tables API's
-- cashbackAmount): recorded with the payment, never counted toward the bill.
ALTER TABLE "payments" ADD COLUMN "cashback_amount" BIGINT NOT NULL DEFAULT 0;
