-- epos-relay initial schema. Kept in step with prisma/schema.prisma by
-- test/integration/schema-drift.test.ts.

-- CreateEnum
CREATE TYPE "DojoEnvironment" AS ENUM ('sandbox', 'production');
CREATE TYPE "RegistrationState" AS ENUM ('pending', 'registered', 'failed');
CREATE TYPE "OrderStatus" AS ENUM ('New', 'Submitted', 'Confirmed', 'Accepted', 'Preparing', 'Prepared', 'Ready', 'Finalized', 'Canceled', 'Failed');
CREATE TYPE "OrderType" AS ENUM ('DineIn', 'Collection');
CREATE TYPE "OrderOrigin" AS ENUM ('pos', 'dojo');
CREATE TYPE "PaymentState" AS ENUM ('Recorded', 'Reversed', 'Refunded', 'Canceled');
CREATE TYPE "SecretState" AS ENUM ('active', 'retired');
CREATE TYPE "OutboxState" AS ENUM ('pending', 'sent', 'failed');
CREATE TYPE "EventState" AS ENUM ('received', 'queued', 'applied', 'pending_payment');

-- Tenancy
CREATE TABLE "software_houses" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "dojo_software_house_id" TEXT NOT NULL,
    "reseller_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "software_houses_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "software_houses_dojo_software_house_id_key" ON "software_houses"("dojo_software_house_id");

CREATE TABLE "locations" (
    "id" UUID NOT NULL,
    "software_house_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "dojo_account_id" TEXT NOT NULL,
    "api_key_ciphertext" BYTEA NOT NULL,
    "api_key_last4" TEXT NOT NULL,
    "environment" "DojoEnvironment" NOT NULL,
    "reseller_id" TEXT,
    "ws_url" TEXT,
    "rest_url" TEXT,
    "currency" TEXT NOT NULL DEFAULT 'GBP',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "capabilities" TEXT[],
    "config_version" INTEGER NOT NULL DEFAULT 1,
    "registration_state" "RegistrationState" NOT NULL DEFAULT 'pending',
    "registration_error" TEXT,
    "registration_attempts" INTEGER NOT NULL DEFAULT 0,
    "registered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "locations_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "locations_dojo_account_id_key" ON "locations"("dojo_account_id");
CREATE INDEX "locations_software_house_id_idx" ON "locations"("software_house_id");
CREATE INDEX "locations_enabled_idx" ON "locations"("enabled");

CREATE TABLE "webhook_secrets" (
    "id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "secret_ciphertext" BYTEA NOT NULL,
    "state" "SecretState" NOT NULL DEFAULT 'active',
    "dojo_subscription_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),
    CONSTRAINT "webhook_secrets_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "webhook_secrets_location_id_state_idx" ON "webhook_secrets"("location_id", "state");

CREATE TABLE "venue_tokens" (
    "id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "last4" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "venue_tokens_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "venue_tokens_token_hash_key" ON "venue_tokens"("token_hash");
CREATE INDEX "venue_tokens_location_id_idx" ON "venue_tokens"("location_id");

CREATE TABLE "bill_templates" (
    "location_id" UUID NOT NULL,
    "header" JSONB NOT NULL DEFAULT '[]',
    "footer" JSONB NOT NULL DEFAULT '[]',
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "bill_templates_pkey" PRIMARY KEY ("location_id")
);

-- EPOS data
CREATE TABLE "areas" (
    "location_id" UUID NOT NULL,
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "waiter_ids" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "areas_pkey" PRIMARY KEY ("location_id", "id")
);

CREATE TABLE "dining_tables" (
    "location_id" UUID NOT NULL,
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "max_covers" INTEGER,
    "area_id" TEXT,
    "waiter_ids" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "dining_tables_pkey" PRIMARY KEY ("location_id", "id")
);
CREATE INDEX "dining_tables_location_id_area_id_idx" ON "dining_tables"("location_id", "area_id");
CREATE INDEX "dining_tables_waiter_ids_idx" ON "dining_tables" USING GIN ("waiter_ids");

CREATE TABLE "orders" (
    "location_id" UUID NOT NULL,
    "id" TEXT NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "origin" "OrderOrigin" NOT NULL DEFAULT 'pos',
    "dojo_order_id" TEXT,
    "reference" TEXT,
    "display_name" TEXT,
    "note" TEXT,
    "status" "OrderStatus" NOT NULL DEFAULT 'New',
    "order_type" "OrderType" NOT NULL,
    "table_id" TEXT,
    "waiter_id" TEXT,
    "party_id" TEXT,
    "reservation_id" TEXT,
    "ready_at" TIMESTAMPTZ(3),
    "collection_asap" BOOLEAN,
    "collect_at" TIMESTAMPTZ(3),
    "customer" JSONB,
    "discounts" JSONB NOT NULL DEFAULT '[]',
    "tax_lines" JSONB NOT NULL DEFAULT '[]',
    "currency" TEXT NOT NULL,
    "total_amount" BIGINT NOT NULL,
    "service_charge_amount" BIGINT,
    "paid_amount" BIGINT NOT NULL DEFAULT 0,
    "tips_amount" BIGINT NOT NULL DEFAULT 0,
    "payable" BOOLEAN NOT NULL DEFAULT true,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "orders_pkey" PRIMARY KEY ("location_id", "id")
);
CREATE UNIQUE INDEX "orders_seq_key" ON "orders"("seq");
CREATE UNIQUE INDEX "orders_location_id_dojo_order_id_key" ON "orders"("location_id", "dojo_order_id");
CREATE INDEX "orders_location_id_seq_idx" ON "orders"("location_id", "seq");
CREATE INDEX "orders_location_id_table_id_seq_idx" ON "orders"("location_id", "table_id", "seq");
CREATE INDEX "orders_location_id_waiter_id_seq_idx" ON "orders"("location_id", "waiter_id", "seq");
CREATE INDEX "orders_location_id_party_id_seq_idx" ON "orders"("location_id", "party_id", "seq");
CREATE INDEX "orders_location_id_reservation_id_seq_idx" ON "orders"("location_id", "reservation_id", "seq");
CREATE INDEX "orders_location_id_payable_seq_idx" ON "orders"("location_id", "payable", "seq");

CREATE TABLE "order_items" (
    "location_id" UUID NOT NULL,
    "order_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "plu" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "amount_per_item" BIGINT NOT NULL,
    "note" TEXT,
    "modifiers" JSONB NOT NULL DEFAULT '[]',
    "sub_items" JSONB NOT NULL DEFAULT '[]',
    CONSTRAINT "order_items_pkey" PRIMARY KEY ("location_id", "order_id", "position")
);

CREATE TABLE "order_locks" (
    "location_id" UUID NOT NULL,
    "order_id" TEXT NOT NULL,
    "lock_id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "order_locks_pkey" PRIMARY KEY ("location_id", "order_id")
);
CREATE INDEX "order_locks_expires_at_idx" ON "order_locks"("expires_at");

CREATE TABLE "payments" (
    "location_id" UUID NOT NULL,
    "payment_intent_id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "paid_amount" BIGINT NOT NULL,
    "tips_amount" BIGINT NOT NULL DEFAULT 0,
    "lock_id" TEXT,
    "state" "PaymentState" NOT NULL DEFAULT 'Recorded',
    "intent_status" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "payments_pkey" PRIMARY KEY ("location_id", "payment_intent_id")
);
CREATE INDEX "payments_location_id_order_id_idx" ON "payments"("location_id", "order_id");

CREATE TABLE "parties" (
    "location_id" UUID NOT NULL,
    "id" TEXT NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "dojo_party_id" TEXT,
    "name" TEXT,
    "covers" INTEGER,
    "table_ids" TEXT[],
    "status" TEXT NOT NULL,
    "start_time" TIMESTAMPTZ(3) NOT NULL,
    "expected_end_time" TIMESTAMPTZ(3),
    "end_time" TIMESTAMPTZ(3),
    "host_notes" TEXT,
    "guest_requests" TEXT,
    "reservation_id" TEXT,
    "deposit" JSONB,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "parties_pkey" PRIMARY KEY ("location_id", "id")
);
CREATE UNIQUE INDEX "parties_seq_key" ON "parties"("seq");
CREATE UNIQUE INDEX "parties_location_id_dojo_party_id_key" ON "parties"("location_id", "dojo_party_id");
CREATE INDEX "parties_location_id_seq_idx" ON "parties"("location_id", "seq");
CREATE INDEX "parties_table_ids_idx" ON "parties" USING GIN ("table_ids");
CREATE INDEX "parties_location_id_end_time_idx" ON "parties"("location_id", "end_time");

CREATE TABLE "reservations" (
    "location_id" UUID NOT NULL,
    "id" TEXT NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "dojo_reservation_id" TEXT,
    "name" TEXT NOT NULL,
    "covers" INTEGER NOT NULL,
    "start_time" TIMESTAMPTZ(3) NOT NULL,
    "end_time" TIMESTAMPTZ(3) NOT NULL,
    "table_ids" TEXT[],
    "host_notes" TEXT,
    "guest_requests" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "reservations_pkey" PRIMARY KEY ("location_id", "id")
);
CREATE UNIQUE INDEX "reservations_seq_key" ON "reservations"("seq");
CREATE UNIQUE INDEX "reservations_location_id_dojo_reservation_id_key" ON "reservations"("location_id", "dojo_reservation_id");
CREATE INDEX "reservations_location_id_start_time_idx" ON "reservations"("location_id", "start_time");
CREATE INDEX "reservations_table_ids_idx" ON "reservations" USING GIN ("table_ids");

-- Platform records
CREATE TABLE "dojo_events" (
    "id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "dojo_account_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "payment_intent_id" TEXT,
    "payment_status" TEXT,
    "capture_mode" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "channel" TEXT NOT NULL,
    "deliveries" INTEGER NOT NULL DEFAULT 1,
    "payload" JSONB NOT NULL,
    "state" "EventState" NOT NULL DEFAULT 'received',
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "applied_at" TIMESTAMPTZ(3),
    CONSTRAINT "dojo_events_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "dojo_events_dojo_account_id_event_id_key" ON "dojo_events"("dojo_account_id", "event_id");
CREATE INDEX "dojo_events_location_id_payment_intent_id_occurred_at_idx" ON "dojo_events"("location_id", "payment_intent_id", "occurred_at");
CREATE INDEX "dojo_events_state_received_at_idx" ON "dojo_events"("state", "received_at");

CREATE TABLE "processed_requests" (
    "location_id" UUID NOT NULL,
    "rpc_id" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "processed_requests_pkey" PRIMARY KEY ("location_id", "rpc_id")
);
CREATE INDEX "processed_requests_created_at_idx" ON "processed_requests"("created_at");

CREATE TABLE "outbox_events" (
    "id" BIGSERIAL NOT NULL,
    "location_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "state" "OutboxState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "outbox_events_state_next_attempt_at_idx" ON "outbox_events"("state", "next_attempt_at");
CREATE INDEX "outbox_events_location_id_entity_type_entity_id_id_idx" ON "outbox_events"("location_id", "entity_type", "entity_id", "id");

CREATE TABLE "venue_feed" (
    "id" BIGSERIAL NOT NULL,
    "location_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "venue_feed_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "venue_feed_location_id_id_idx" ON "venue_feed"("location_id", "id");

-- Foreign keys
ALTER TABLE "locations" ADD CONSTRAINT "locations_software_house_id_fkey" FOREIGN KEY ("software_house_id") REFERENCES "software_houses"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "webhook_secrets" ADD CONSTRAINT "webhook_secrets_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "venue_tokens" ADD CONSTRAINT "venue_tokens_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "bill_templates" ADD CONSTRAINT "bill_templates_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "areas" ADD CONSTRAINT "areas_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "dining_tables" ADD CONSTRAINT "dining_tables_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "dining_tables" ADD CONSTRAINT "dining_tables_location_id_area_id_fkey" FOREIGN KEY ("location_id", "area_id") REFERENCES "areas"("location_id", "id") ON DELETE NO ACTION ON UPDATE CASCADE;
ALTER TABLE "orders" ADD CONSTRAINT "orders_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_location_id_order_id_fkey" FOREIGN KEY ("location_id", "order_id") REFERENCES "orders"("location_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "order_locks" ADD CONSTRAINT "order_locks_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "order_locks" ADD CONSTRAINT "order_locks_location_id_order_id_fkey" FOREIGN KEY ("location_id", "order_id") REFERENCES "orders"("location_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "payments" ADD CONSTRAINT "payments_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "payments" ADD CONSTRAINT "payments_location_id_order_id_fkey" FOREIGN KEY ("location_id", "order_id") REFERENCES "orders"("location_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "parties" ADD CONSTRAINT "parties_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "dojo_events" ADD CONSTRAINT "dojo_events_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "processed_requests" ADD CONSTRAINT "processed_requests_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_events_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "venue_feed" ADD CONSTRAINT "venue_feed_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
