-- Announces every change to what a read of an order returns (the order row, its items, its payments), and to the
-- venue's tables and parties (the Tables API's session list shows them), on the channel 'epos_relay_order_changes',
-- with the location id as payload: the gateways keep a copy of those reads (OrderReadCache) and drop a location's
-- copy when they hear of a change. Postgres sends a notification only
-- when its transaction commits, and folds repeats of one payload within a transaction into one. A TRUNCATE of any
-- of these tables announces '*' (every location).
--
-- Not announced: the changes of a transaction that set 'epos_relay.told_by_gateway' to 'on'. Only Dojo's
-- requests do (RpcDispatcher's first statement): the gateway that owns the venue's link tells its cache itself when
-- it hands Dojo the answer, and a gateway that has just taken a venue over keeps nothing of it until every request
-- sent through the previous owner is past its deadline (OrderReadCache's grace).
CREATE FUNCTION "epos_relay_order_changed"() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('epos_relay.told_by_gateway', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('epos_relay_order_changes', '*');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('epos_relay_order_changes', OLD.location_id::text);
  ELSE
    PERFORM pg_notify('epos_relay_order_changes', NEW.location_id::text);
    IF TG_OP = 'UPDATE' AND OLD.location_id IS DISTINCT FROM NEW.location_id THEN
      PERFORM pg_notify('epos_relay_order_changes', OLD.location_id::text);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "orders_announce_change" AFTER INSERT OR UPDATE OR DELETE ON "orders"
  FOR EACH ROW EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "order_items_announce_change" AFTER INSERT OR UPDATE OR DELETE ON "order_items"
  FOR EACH ROW EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "payments_announce_change" AFTER INSERT OR UPDATE OR DELETE ON "payments"
  FOR EACH ROW EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "dining_tables_announce_change" AFTER INSERT OR UPDATE OR DELETE ON "dining_tables"
  FOR EACH ROW EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "parties_announce_change" AFTER INSERT OR UPDATE OR DELETE ON "parties"
  FOR EACH ROW EXECUTE FUNCTION "epos_relay_order_changed"();

CREATE TRIGGER "orders_announce_truncate" AFTER TRUNCATE ON "orders"
  FOR EACH STATEMENT EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "order_items_announce_truncate" AFTER TRUNCATE ON "order_items"
  FOR EACH STATEMENT EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "payments_announce_truncate" AFTER TRUNCATE ON "payments"
  FOR EACH STATEMENT EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "dining_tables_announce_truncate" AFTER TRUNCATE ON "dining_tables"
  FOR EACH STATEMENT EXECUTE FUNCTION "epos_relay_order_changed"();
CREATE TRIGGER "parties_announce_truncate" AFTER TRUNCATE ON "parties"
  FOR EACH STATEMENT EXECUTE FUNCTION "epos_relay_order_changed"();
