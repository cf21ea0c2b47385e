-- A location's protocol (issue 12): Dojo's EPOS Data API (today's), Dojo's legacy
-- Tables API or Paymentsense Connect's pay-at-table socket. TEXT with a CHECK
-- rather than an enum so a protocol is added by replacing the constraint.
-- protocol_settings holds the protocol's non-secret credentials (account name,
-- host address, installer id, flags); the secret stays in api_key_ciphertext.
ALTER TABLE "locations"
    ADD COLUMN "protocol" TEXT NOT NULL DEFAULT 'epos-data',
    ADD COLUMN "protocol_settings" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "locations"
    ADD CONSTRAINT "locations_protocol_check" CHECK ("protocol" IN ('epos-data', 'dojo-tables', 'connect-pat'));
CREATE INDEX "locations_protocol_idx" ON "locations"("protocol");

-- Capability registration applies to epos-data only.
ALTER TYPE "RegistrationState" ADD VALUE IF NOT EXISTS 'not_required';

-- Request ids are unique per dialect, not per location: two dialects of one
-- location (a venue switched between protocols) must never share an answer.
ALTER TABLE "processed_requests" ADD COLUMN "dialect" TEXT NOT NULL DEFAULT 'epos-data';
ALTER TABLE "processed_requests" DROP CONSTRAINT "processed_requests_pkey";
ALTER TABLE "processed_requests" ADD CONSTRAINT "processed_requests_pkey" PRIMARY KEY ("location_id", "dialect", "rpc_id");
