-- Dead letters (issue 16 item 3): a Dojo event, a POS event or a capability
-- registration that keeps failing stops after a configured number of attempts
-- and is kept, with its last error and when it died, until an operator replays
-- or discards it (discarded rows are kept for audit and never retried).
ALTER TYPE "EventState" ADD VALUE IF NOT EXISTS 'dead';
ALTER TYPE "EventState" ADD VALUE IF NOT EXISTS 'discarded';
ALTER TYPE "OutboxState" ADD VALUE IF NOT EXISTS 'dead';
ALTER TYPE "OutboxState" ADD VALUE IF NOT EXISTS 'discarded';

ALTER TABLE "dojo_events"
    ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "last_error" TEXT,
    ADD COLUMN "last_failed_at" TIMESTAMPTZ(3),
    ADD COLUMN "dead_at" TIMESTAMPTZ(3),
    ADD COLUMN "discarded_at" TIMESTAMPTZ(3),
    ADD COLUMN "discard_reason" TEXT;
CREATE INDEX "dojo_events_dead_at_idx" ON "dojo_events"("dead_at");

ALTER TABLE "outbox_events"
    ADD COLUMN "dead_at" TIMESTAMPTZ(3),
    ADD COLUMN "discarded_at" TIMESTAMPTZ(3),
    ADD COLUMN "discard_reason" TEXT;
CREATE INDEX "outbox_events_dead_at_idx" ON "outbox_events"("dead_at");

ALTER TABLE "locations"
    ADD COLUMN "registration_dead_at" TIMESTAMPTZ(3),
    ADD COLUMN "registration_discarded_at" TIMESTAMPTZ(3),
    ADD COLUMN "registration_discard_reason" TEXT;

-- Registrations that already failed for good are dead letters from now on.
UPDATE "locations" SET "registration_dead_at" = "updated_at" WHERE "registration_state" = 'failed';
