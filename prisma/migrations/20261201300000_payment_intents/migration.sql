-- Online payments (issue 14): the payment intents a venue creates for its
-- orders through the venue API, and the idempotent operations on them
-- (capture, refund, reversal) keyed by the venue's idempotency key.
CREATE TABLE "payment_intents" (
    "location_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "payment_intent_id" TEXT,
    "order_id" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "tips_amount" BIGINT NOT NULL DEFAULT 0,
    "currency" TEXT NOT NULL,
    "capture_mode" TEXT NOT NULL,
    "tips_allowed" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL,
    "checkout_url" TEXT,
    "refunded_amount" BIGINT NOT NULL DEFAULT 0,
    "settlement_note" TEXT,
    "next_check_at" TIMESTAMPTZ(3),
    "check_attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "payment_intents_pkey" PRIMARY KEY ("location_id", "id")
);
CREATE UNIQUE INDEX "payment_intents_location_id_payment_intent_id_key" ON "payment_intents"("location_id", "payment_intent_id");
CREATE UNIQUE INDEX "payment_intents_location_id_idempotency_key_key" ON "payment_intents"("location_id", "idempotency_key");
CREATE INDEX "payment_intents_location_id_order_id_idx" ON "payment_intents"("location_id", "order_id");
CREATE INDEX "payment_intents_next_check_at_idx" ON "payment_intents"("next_check_at");
ALTER TABLE "payment_intents" ADD CONSTRAINT "payment_intents_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "payment_intents" ADD CONSTRAINT "payment_intents_location_id_order_id_fkey" FOREIGN KEY ("location_id", "order_id") REFERENCES "orders"("location_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "payment_intent_operations" (
    "location_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "payment_intent_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "amount" BIGINT,
    "reason" TEXT,
    "dojo_ref" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payment_intent_operations_pkey" PRIMARY KEY ("location_id", "idempotency_key")
);
CREATE INDEX "payment_intent_operations_location_id_payment_intent_id_idx" ON "payment_intent_operations"("location_id", "payment_intent_id");
ALTER TABLE "payment_intent_operations" ADD CONSTRAINT "payment_intent_operations_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
