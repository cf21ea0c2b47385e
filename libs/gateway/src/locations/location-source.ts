import type { PrismaClient, SecretBox } from '@app/db';
import { apiKeyAad, counterTokenAad } from '@app/db';
import type { ConnectPacSettings } from '@app/contracts';
import { COUNTER_SIGNATURE_WAIT_DEFAULT_MS } from '@app/contracts';
import type { GatewayLocationRow } from '@app/domain';
import { GatewayLocationsRepository } from '@app/domain';
import type { CounterLinkConfig, LocationConfig } from './location-config';
import { CONNECT_PAC_PROFILE } from './location-config';

type LocationRow = GatewayLocationRow;

/**
 * One shared, frozen copy of each distinct capability list (and of each
 * software-house id): thousands of venues hold the same few lists, and each
 * row read from Postgres brings its own copies of 25 strings (about 2 KB per
 * venue, held for as long as its link lives). Bounded: past MAX_INTERNED
 * distinct values a row keeps its own copy.
 */
const MAX_INTERNED = 1_000;
const capabilityLists = new Map<string, readonly string[]>();
const softwareHouses = new Map<string, string>();

function sharedList(list: readonly string[]): readonly string[] {
  const key = list.join('\n');
  const known = capabilityLists.get(key);
  if (known) return known;
  const frozen = Object.freeze([...list]);
  if (capabilityLists.size < MAX_INTERNED) capabilityLists.set(key, frozen);
  return frozen;
}

function sharedString(map: Map<string, string>, s: string): string {
  const known = map.get(s);
  if (known !== undefined) return known;
  if (map.size < MAX_INTERNED) map.set(s, s);
  return s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** PAC settings as stored (protocol_settings or counter_links.settings), with the documented defaults filled in. */
export function pacSettingsOf(raw: unknown): ConnectPacSettings {
  const s = isRecord(raw) ? raw : {};
  return {
    hostAddress: typeof s.hostAddress === 'string' ? s.hostAddress : '',
    environment: s.environment === 'test' ? 'test' : 'production',
    installerId: typeof s.installerId === 'string' ? s.installerId : '',
    signatureDefault: s.signatureDefault === 'accept' ? 'accept' : 'decline',
    signatureWaitMs: typeof s.signatureWaitMs === 'number' ? s.signatureWaitMs : COUNTER_SIGNATURE_WAIT_DEFAULT_MS,
  };
}

/** Reads locations from Postgres and decrypts their API keys. */
export class LocationSource {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secretBox: SecretBox,
  ) {}

  async loadAll(): Promise<LocationConfig[]> {
    const rows = await new GatewayLocationsRepository(this.prisma).readAllLocations();
    return rows.map((r) => this.toConfig(r));
  }

  async loadOne(locationId: string): Promise<LocationConfig | undefined> {
    const row = await new GatewayLocationsRepository(this.prisma).read(locationId);
    return row ? this.toConfig(row) : undefined;
  }

  private decrypt(ciphertext: Uint8Array, aad: string): string | undefined {
    try {
      return this.secretBox.decrypt(ciphertext, aad);
    } catch {
      // Shown as "cannot be decrypted" in the link's status; the error itself may not name the secret.
      return undefined;
    }
  }

  private toConfig(r: LocationRow): LocationConfig {
    const apiKey = this.decrypt(r.apiKeyCiphertext, apiKeyAad(r.id));
    let counter: CounterLinkConfig | undefined;
    if (r.protocol === CONNECT_PAC_PROFILE) {
      counter = { token: apiKey, settings: pacSettingsOf(r.protocolSettings), wsUrl: r.wsUrl ?? undefined, enabled: true };
    } else if (r.counterLink) {
      const c = r.counterLink;
      counter = { token: this.decrypt(c.tokenCiphertext, counterTokenAad(r.id)), settings: pacSettingsOf(c.settings), wsUrl: c.wsUrl ?? undefined, enabled: c.enabled };
    }
    return {
      id: r.id,
      name: r.name,
      enabled: r.enabled,
      configVersion: r.configVersion,
      capabilities: sharedList(r.capabilities),
      apiKey,
      softwareHouseId: sharedString(softwareHouses, r.softwareHouse.dojoSoftwareHouseId),
      resellerId: r.resellerId ?? r.softwareHouse.resellerId ?? undefined,
      wsUrl: r.wsUrl ?? undefined,
      profile: r.protocol,
      settings: r.protocol === CONNECT_PAC_PROFILE ? (counter!.settings as unknown as Record<string, unknown>) : isRecord(r.protocolSettings) ? r.protocolSettings : {},
      ...(counter ? { counter } : {}),
    };
  }
}
