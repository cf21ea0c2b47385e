import type { PrismaClient, SecretBox } from '@app/db';
import { apiKeyAad } from '@app/db';
import type { GatewayLocationRow } from '@app/domain';
import { GatewayLocationsRepository } from '@app/domain';
import type { LocationConfig } from './location-config';

type LocationRow = GatewayLocationRow;

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
      capabilities: r.capabilities,
      apiKey,
      softwareHouseId: r.softwareHouse.dojoSoftwareHouseId,
      resellerId: r.resellerId ?? r.softwareHouse.resellerId ?? undefined,
      wsUrl: r.wsUrl ?? undefined,
      profile: r.protocol,
      settings: isRecord(r.protocolSettings) ? r.protocolSettings : {},
    };
  }
}
