import type { ConnectPacSettings } from '@app/contracts';

/**
 * The location's pay-at-counter link (Connect PAC): from the location itself when its protocol is connect-pac,
 * else from its counter_links row (a link beside the location's own, under the same lease).
 */
export interface CounterLinkConfig {
  /** Decrypted Connect token; undefined when it cannot be decrypted. Never logged. */
  token?: string;
  settings: ConnectPacSettings;
  wsUrl?: string;
  enabled: boolean;
}

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
  /** The PAC link, when the location has one (connect-pac, or a counter_links row). */
  counter?: CounterLinkConfig;
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

export const CONNECT_PAC_PROFILE = 'connect-pac';

/**
 * The configuration a PAC link beside the location's own link dials with: the location's identity and software
 * house, the counter link's token (as the link's `apiKey`), URL and settings, profile connect-pac. Undefined when the
 * location has no such link (none, disabled, or the location's own protocol is connect-pac: its own link is the PAC link).
 */
export function besideCounterConfig(loc: LocationConfig): LocationConfig | undefined {
  const c = loc.counter;
  if (!c || !c.enabled || loc.profile === CONNECT_PAC_PROFILE) return undefined;
  return {
    ...loc,
    apiKey: c.token,
    wsUrl: c.wsUrl,
    profile: CONNECT_PAC_PROFILE,
    settings: c.settings as unknown as Record<string, unknown>,
    counter: undefined,
  };
}
