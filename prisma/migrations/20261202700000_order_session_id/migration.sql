-- The table session id of an order, stored so that a pay-at-table dialect's session lookup is an index
-- probe instead of an md5 over every order of the location. Same value as core/rules tableSessionId:
-- the RFC 4122 version-3 UUID of '<location id>:<order id>' (the unit and integration tests compare both).
CREATE FUNCTION "table_session_id"(location_id uuid, order_id text) RETURNS uuid
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN (SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-3' || substr(h, 14, 3) || '-'
      || substr('89ab', (('x' || substr(h, 17, 1))::bit(4)::int & 3) + 1, 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12))::uuid
    FROM (SELECT md5(location_id::text || ':' || order_id) AS h) AS session_hash);

ALTER TABLE "orders" ADD COLUMN "session_id" UUID NOT NULL GENERATED ALWAYS AS ("table_session_id"("location_id", "id")) STORED;

CREATE INDEX "orders_location_id_session_id_idx" ON "orders"("location_id", "session_id");
