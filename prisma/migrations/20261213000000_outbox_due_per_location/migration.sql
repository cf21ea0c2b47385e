-- The outbox claim takes each location's oldest due rows up to its share of sends (OUTBOX_SENDS_PER_LOCATION): a
-- read per location by state and due time, which the (state, next_attempt_at) index alone answers only by walking
-- every location's due rows.
CREATE INDEX "outbox_events_location_id_state_next_attempt_at_idx" ON "outbox_events"("location_id", "state", "next_attempt_at");
