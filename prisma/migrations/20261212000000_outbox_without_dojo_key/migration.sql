-- POS events (POST /epos/events) go with the location's Dojo API key, which only an EPOS Data location has. Rows were
-- written at Tables API and Connect locations too, and sent with their Tables API key or Connect token, which Dojo
-- refused (401) until each row became a dead letter. Such rows, pending or dead, are discarded with the reason; from
-- now on those locations write none (the insert reads the location's protocol).
UPDATE "outbox_events" o SET "state" = 'discarded', "discarded_at" = now(),
  "discard_reason" = 'the location speaks ' || l."protocol" || ', whose secret is not a Dojo API key: POS events are sent for EPOS Data locations only'
FROM "locations" l
WHERE l."id" = o."location_id" AND l."protocol" <> 'epos-data' AND o."state" IN ('pending', 'dead');
