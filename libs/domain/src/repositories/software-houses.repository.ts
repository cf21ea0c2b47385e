import type { Tx } from '../shared/tx';
import { constrained } from './constraint-violation';

/** A software house row, with its location count where asked for. */
export interface SoftwareHouseRow {
  id: string;
  name: string;
  dojoSoftwareHouseId: string;
  resellerId: string | null;
  createdAt: Date;
  updatedAt: Date;
  _count?: { locations: number };
}

export interface SoftwareHouseData {
  name: string;
  dojoSoftwareHouseId: string;
  resellerId: string | null;
}

/**
 * Software houses (EPOS vendor accounts at Dojo): the only code that reads or
 * writes software_houses. Not venue-owned: a software house owns locations.
 * Unique and foreign-key violations surface as the driver raises them.
 */
export class SoftwareHousesRepository {
  constructor(private readonly db: Tx) {}

  async create(data: SoftwareHouseData): Promise<SoftwareHouseRow> {
    return constrained(() => this.db.softwareHouse.create({ data }));
  }

  /** Up to `take` software houses after the cursor in id order, each with its location count. */
  async page(cursor: string | undefined, take: number): Promise<SoftwareHouseRow[]> {
    return this.db.softwareHouse.findMany({
      where: cursor ? { id: { gt: cursor } } : {},
      orderBy: { id: 'asc' },
      take,
      include: { _count: { select: { locations: true } } },
    });
  }

  async getWithCount(id: string): Promise<SoftwareHouseRow | null> {
    return this.db.softwareHouse.findUnique({ where: { id }, include: { _count: { select: { locations: true } } } });
  }

  async exists(id: string): Promise<boolean> {
    return (await this.db.softwareHouse.findUnique({ where: { id }, select: { id: true } })) !== null;
  }

  async update(id: string, data: Partial<SoftwareHouseData>): Promise<SoftwareHouseRow> {
    return constrained(() => this.db.softwareHouse.update({ where: { id }, data }));
  }

  /** Deletes the software house; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const { count } = await constrained(() => this.db.softwareHouse.deleteMany({ where: { id } }));
    return count > 0;
  }
}
