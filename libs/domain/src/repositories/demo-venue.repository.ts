import type { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';

/**
 * The demo venue's own rows (libs/domain/src/demo): its software house, its
 * location and its bill template. Areas, tables and orders go through their
 * aggregates' repositories.
 */
export class DemoVenueRepository {
  constructor(private readonly db: Tx) {}

  /** Creates the software house once; its id. */
  async ensureSoftwareHouse(dojoSoftwareHouseId: string, name: string): Promise<string> {
    const sh = await this.db.softwareHouse.upsert({ where: { dojoSoftwareHouseId }, update: {}, create: { name, dojoSoftwareHouseId } });
    return sh.id;
  }

  /** Across locations by Dojo account id: the location's id, if any. */
  async locationIdOfAccount(dojoAccountId: string): Promise<string | undefined> {
    const existing = await this.db.location.findUnique({ where: { dojoAccountId }, select: { id: true } });
    return existing?.id;
  }

  /** Refreshes the location (its config version moves on). */
  async updateLocation(locationId: string, data: Prisma.LocationUncheckedUpdateInput): Promise<void> {
    await this.db.location.update({ where: { id: locationId }, data: { ...data, configVersion: { increment: 1 } } });
  }

  async createLocation(locationId: string, dojoAccountId: string, data: Omit<Prisma.LocationUncheckedCreateInput, 'id' | 'dojoAccountId'>): Promise<void> {
    await this.db.location.create({ data: { id: locationId, dojoAccountId, ...data } });
  }

  /** Creates the bill template unless the location has one. */
  async ensureBillTemplate(locationId: string, header: Prisma.InputJsonValue, footer: Prisma.InputJsonValue): Promise<void> {
    await this.db.billTemplate.upsert({ where: { locationId }, update: {}, create: { locationId, header, footer } });
  }
}
