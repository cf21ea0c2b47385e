-- When the terminal attempted a payment, as the Tables API's RecordPayment states it (payment.attemptedAt). Dojo's rule
-- for PAYMENT_ALREADY_RECORDED is the same id with the same amounts and attemptedAt: the same id at another time is a
-- reused id, not a repeat. Null for the other channels and for payments recorded before this column.
ALTER TABLE "payments" ADD COLUMN "attempted_at" TIMESTAMPTZ(3);
