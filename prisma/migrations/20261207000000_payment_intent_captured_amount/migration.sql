-- What Dojo reports captured of an online intent (the sum of its successful captures, minor units, tips not
-- included), read before its capture is recorded; null while not known. A capture may be of part of the intent
-- (POST /venue/v1/.../payment-intents/{id}/capture {amount}): the payment recorded and the refund ceiling follow
-- what was captured, not the intent's amount (core/rules capturedAmountOf).
ALTER TABLE "payment_intents" ADD COLUMN "captured_amount" BIGINT;
