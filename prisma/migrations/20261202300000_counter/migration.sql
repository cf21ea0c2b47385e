-- Pay at counter through Paymentsense Connect (issue 13).

-- A location may speak connect-pac alone (its PAC credentials are the location's
-- protocol_settings and encrypted api key, like connect-pat) ...
ALTER TABLE "locations" DROP CONSTRAINT "locations_protocol_check";
ALTER TABLE "locations"
    ADD CONSTRAINT "locations_protocol_check" CHECK ("protocol" IN ('epos-data', 'dojo-tables', 'connect-pat', 'connect-pac'));

-- ... or have a PAC link beside its own protocol's link (EPOS Data, Tables API or
-- Connect PAT): the counter terminals of the same venue, its own host and token.
CREATE TABLE "counter_links" (
    "location_id" UUID NOT NULL,
    -- ConnectPacSettings (@app/contracts counter.ts): host address, environment, installer id, signature default and wait.
    "settings" JSONB NOT NULL,
    "token_ciphertext" BYTEA NOT NULL,
    "token_last4" TEXT NOT NULL,
    -- Per-link override of the WebSocket URL (the sandbox); the token is never part of it.
    "ws_url" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "counter_links_pkey" PRIMARY KEY ("location_id"),
    CONSTRAINT "counter_links_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- One sale, refund or duplicate asked of a terminal by the venue's POS. The row is
-- written before the POS is answered; the state machine is in counter.ts.
CREATE TABLE "counter_transactions" (
    "id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    -- Hash of the request that created it: the same key with another request is refused.
    "request_hash" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "tid" TEXT NOT NULL,
    "amount" BIGINT,
    "amount_cashback" BIGINT,
    "currency" TEXT NOT NULL,
    "order_id" TEXT,
    "state" TEXT NOT NULL DEFAULT 'accepted',
    "result" TEXT,
    "failure" TEXT,
    "message" TEXT,
    -- Connect's final transaction (receipt lines, card fields), as read.
    "outcome" JSONB,
    "last_notification" TEXT,
    -- Who sent it, under which fencing token, and when.
    "fence" BIGINT,
    "sent_by" TEXT,
    "sent_at" TIMESTAMPTZ(3),
    "cancel_requested_at" TIMESTAMPTZ(3),
    "cancel_sent_at" TIMESTAMPTZ(3),
    -- An accepted command not sent by then fails not_sent.
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),
    -- The payment recorded on the order (payments.payment_intent_id), once.
    "payment_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "counter_transactions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "counter_transactions_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "counter_transactions_kind_check" CHECK ("kind" IN ('sale', 'refund', 'duplicate')),
    CONSTRAINT "counter_transactions_state_check" CHECK ("state" IN ('accepted', 'sent', 'cancel_requested', 'recovering', 'finished', 'failed'))
);
CREATE UNIQUE INDEX "counter_transactions_location_id_idempotency_key_key" ON "counter_transactions"("location_id", "idempotency_key");
CREATE INDEX "counter_transactions_location_id_tid_created_at_idx" ON "counter_transactions"("location_id", "tid", "created_at");
CREATE INDEX "counter_transactions_location_id_state_idx" ON "counter_transactions"("location_id", "state");

-- The venue's counter event stream (notifications, signature requests and answers,
-- state changes), replayed to a POS that reconnects (SSE Last-Event-ID).
CREATE TABLE "counter_events" (
    "id" BIGSERIAL NOT NULL,
    "location_id" UUID NOT NULL,
    "transaction_id" UUID,
    "tid" TEXT,
    "type" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- As venue_feed.tx_id: read in (tx_id, id) order below the oldest running transaction, so a replay never skips a late commit.
    "tx_id" BIGINT NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint,
    CONSTRAINT "counter_events_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "counter_events_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "counter_events_transaction_id_fkey" FOREIGN KEY ("transaction_id") REFERENCES "counter_transactions"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "counter_events_location_id_id_idx" ON "counter_events"("location_id", "id");
CREATE INDEX "counter_events_location_id_tx_id_id_idx" ON "counter_events"("location_id", "tx_id", "id");
CREATE INDEX "counter_events_transaction_id_idx" ON "counter_events"("transaction_id");
