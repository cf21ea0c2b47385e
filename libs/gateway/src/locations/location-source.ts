import type { PrismaClient, SecretBox } from '@app/db';
import { apiKeyAad } from '@app/db';
import type { GatewayLocationRow } from '@app/domain';
import { GatewayLocationsRepository } from '@app/domain';
import type { LocationConfig } from './location-config';

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

  private toConfig(r: LocationRow): LocationConfig {
    let apiKey: string | undefined;
    try {
      apiKey = this.secretBox.decrypt(r.apiKeyCiphertext, apiKeyAad(r.id));
    } catch {
      apiKey = undefined;
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
      settings: isRecord(r.protocolSettings) ? r.protocolSettings : {},
    };
  }
}
