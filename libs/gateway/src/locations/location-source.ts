import type { PrismaClient, SecretBox } from '@app/db';
import { apiKeyAad } from '@app/db';
import type { LocationConfig } from './location-config';

type LocationRow = {
  id: string;
  name: string;
  enabled: boolean;
  configVersion: number;
  capabilities: string[];
  apiKeyCiphertext: Uint8Array;
  resellerId: string | null;
  wsUrl: string | null;
  softwareHouse: { dojoSoftwareHouseId: string; resellerId: string | null };
};

const SELECT = {
  id: true,
  name: true,
  enabled: true,
  configVersion: true,
  capabilities: true,
  apiKeyCiphertext: true,
  resellerId: true,
  wsUrl: true,
  softwareHouse: { select: { dojoSoftwareHouseId: true, resellerId: true } },
} as const;

/** Reads locations from Postgres and decrypts their API keys. */
export class LocationSource {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secretBox: SecretBox,
  ) {}

  async loadAll(): Promise<LocationConfig[]> {
    const rows = (await this.prisma.location.findMany({ select: SELECT, orderBy: { id: 'asc' } })) as LocationRow[];
    return rows.map((r) => this.toConfig(r));
  }

  async loadOne(locationId: string): Promise<LocationConfig | undefined> {
    const row = (await this.prisma.location.findUnique({ where: { id: locationId }, select: SELECT })) as LocationRow | null;
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
      profile: 'epos-data',
    };
  }
}
