-- POS events Dojo refused before dead letters existed ('failed') become dead
-- letters. A separate migration: the enum values added by the previous one can
-- only be used once its transaction has committed.
UPDATE "outbox_events" SET "state" = 'dead', "dead_at" = "next_attempt_at" WHERE "state" = 'failed';
