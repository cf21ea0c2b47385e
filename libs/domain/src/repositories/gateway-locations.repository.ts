import type { Tx } from '../shared/tx';

/** A location as the gateway dials it (API key still encrypted). */
export interface GatewayLocationRow {
  id: string;
  name: string;
  enabled: boolean;
  configVersion: number;
  capabilities: string[];
  apiKeyCiphertext: Uint8Array;
  resellerId: string | null;
  wsUrl: string | null;
  protocol: string;
  protocolSettings: unknown;
  softwareHouse: { dojoSoftwareHouseId: string; resellerId: string | null };
  /** The PAC link beside the location's own link (counter_links), token still encrypted. */
  counterLink: { settings: unknown; tokenCiphertext: Uint8Array; wsUrl: string | null; enabled: boolean } | null;
}

const SELECT = {
  id: true,
  name: true,
  enabled: true,
  configVersion: true,
  capabilities: true,
  apiKeyCiphertext: true,
  resellerId: true,
  wsUrl: true,
  protocol: true,
  protocolSettings: true,
  softwareHouse: { select: { dojoSoftwareHouseId: true, resellerId: true } },
  counterLink: { select: { settings: true, tokenCiphertext: true, wsUrl: true, enabled: true } },
} as const;

/** locations (with their software house and PAC link), read by the gateway's LocationSource. */
export class GatewayLocationsRepository {
  constructor(private readonly db: Tx) {}

  /** Every location (the gateway owns a fleet), by id. */
  async readAllLocations(): Promise<GatewayLocationRow[]> {
    return this.db.location.findMany({ select: SELECT, orderBy: { id: 'asc' } });
  }

  async read(locationId: string): Promise<GatewayLocationRow | undefined> {
    const row = (await this.db.location.findUnique({ where: { id: locationId }, select: SELECT })) as GatewayLocationRow | null;
    return row ?? undefined;
  }
}
