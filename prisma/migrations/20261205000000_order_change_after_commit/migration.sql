-- The platform's own connections announce their order changes after the commit, not in it.
--
-- A transaction that calls pg_notify takes one lock for the whole server at commit and holds it until its commit
-- record is flushed, so such transactions commit one at a time, each waiting for its own flush (with a 1 ms flush,
-- about 700 a second at most, however many connections write; bench/diagnostics/announced-commits.js). The venue
-- API's writes, the events worker's applies and counter settlements all announced that way.
--
-- Now a connection whose application_name starts with 'epos-relay/' (createPrisma's pool; DB_ANNOUNCE_AFTER_COMMIT,
-- on by default) gets an INFO message 'epos_relay_order_changed' with the location id as its detail instead, and the
-- pool's ChangeAnnouncer (libs/db/src/announcements.ts) sends the notification once the transaction has ended, on a
-- connection of its own, where pg_notify has nothing to flush. Every other connection (psql, another tool) and every
-- TRUNCATE is announced in its transaction, as before; Dojo's own requests (epos_relay.told_by_gateway) are not
-- announced at all, as before. The channel and the payload (a location id, '*' after a TRUNCATE) are unchanged.
CREATE OR REPLACE FUNCTION "epos_relay_order_changed"() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('epos_relay.told_by_gateway', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('epos_relay_order_changes', '*');
    RETURN NULL;
  END IF;
  IF current_setting('application_name') LIKE 'epos-relay/%' THEN
    IF TG_OP = 'DELETE' THEN
      RAISE INFO 'epos_relay_order_changed' USING DETAIL = OLD.location_id::text;
    ELSE
      RAISE INFO 'epos_relay_order_changed' USING DETAIL = NEW.location_id::text;
      IF TG_OP = 'UPDATE' AND OLD.location_id IS DISTINCT FROM NEW.location_id THEN
        RAISE INFO 'epos_relay_order_changed' USING DETAIL = OLD.location_id::text;
      END IF;
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('epos_relay_order_changes', OLD.location_id::text);
  ELSE
    PERFORM pg_notify('epos_relay_order_changes', NEW.location_id::text);
    IF TG_OP = 'UPDATE' AND OLD.location_id IS DISTINCT FROM NEW.location_id THEN
      PERFORM pg_notify('epos_relay_order_changes', OLD.location_id::text);
    END IF;
  END IF;
  RETURN NULL;
END $$;
