/**
 * What the gateway needs to know about one location to hold its link. Built
 * from Postgres (locations + software_houses); the API key is decrypted and
 * must never be logged.
 */
export interface LocationConfig {
  id: string;
  name: string;
  enabled: boolean;
  configVersion: number;
  /** Shared between locations with the same list (LocationSource): never mutated. */
  capabilities: readonly string[];
  /** Decrypted Dojo API key (sk_sandbox_... / sk_prod_...); undefined when it cannot be decrypted. */
  apiKey?: string;
  /** Dojo's software-house-id for the vendor. */
  softwareHouseId: string;
  /** The location's reseller id, else the software house's. */
  resellerId?: string;
  /** Per-location override of the WebSocket URL. */
  wsUrl?: string;
  /** Connection profile name: the location's protocol (epos-data, dojo-tables, connect-pat). */
  profile: string;
  /** The protocol's non-secret settings (ProtocolSettingsOf in @app/contracts); {} for epos-data. */
  settings?: Record<string, unknown>;
}

/** True when a change means the live socket must be re-dialled (credentials, URL, headers, profile). */
export function needsRedial(a: LocationConfig, b: LocationConfig): boolean {
  return (
    a.apiKey !== b.apiKey ||
    a.softwareHouseId !== b.softwareHouseId ||
    a.resellerId !== b.resellerId ||
    a.wsUrl !== b.wsUrl ||
    a.profile !== b.profile ||
    JSON.stringify(a.settings ?? {}) !== JSON.stringify(b.settings ?? {})
  );
}
