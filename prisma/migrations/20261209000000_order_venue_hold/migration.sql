-- The venue's own hold on an order (its POS sent payable false while editing the bill), kept apart from payable:
-- a change of the payments (a refund, a reversal, a payment) recomputes payable from the amounts and the status,
-- and used to overwrite the POS's choice. payable is now false while the hold stands (order-rules.sql payableSql).
-- Existing orders a POS marked not payable while something is outstanding keep their hold.
ALTER TABLE "orders" ADD COLUMN "held_by_venue" BOOLEAN NOT NULL DEFAULT false;
UPDATE "orders" SET "held_by_venue" = true
 WHERE "payable" = false AND "paid_amount" < "total_amount" AND "status" NOT IN ('Canceled', 'Finalized', 'Failed');
