-- Indexes that no statement reads, dropped: each cost an index entry on every insert into its table and on every
-- update that is not HOT (dojo_events' state changes, outbox_events' sends), on the request path and the webhook path.
--
-- - dojo_events(dead_at), outbox_events(dead_at): the dead letters are found by state = 'dead' (the
--   (state, received_at) and (state, next_attempt_at) indexes); every filter on dead_at comes with that state, and
--   the list sorts on coalesce(dead_at, ...), which a plain dead_at index cannot serve.
-- - venue_feed(location_id, id), counter_events(location_id, id): from before tx_id; both are read in (tx_id, id)
--   order per location, by the (location_id, tx_id, id) indexes, which also serve a location's cascade delete.
DROP INDEX "dojo_events_dead_at_idx";
DROP INDEX "outbox_events_dead_at_idx";
DROP INDEX "venue_feed_location_id_id_idx";
DROP INDEX "counter_events_location_id_id_idx";
