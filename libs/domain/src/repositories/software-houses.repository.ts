import type { PrismaClient } from '@app/db';
import type { Tx } from '../shared/tx';
import { constrained } from './constraint-violation';
import { LocationsRepository } from './locations.repository';
import { runInTransaction } from './unit-of-work';

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

  /** Runs fn in one transaction with this repository and the locations' bound to it (joins the current one when already inside). */
  async transaction<T>(fn: (houses: SoftwareHousesRepository, locations: LocationsRepository) => Promise<T>): Promise<T> {
    if (!('$transaction' in this.db)) return fn(this, new LocationsRepository(this.db));
    return runInTransaction(this.db as PrismaClient, (tx) => fn(new SoftwareHousesRepository(tx), new LocationsRepository(tx)));
  }

  /** Applies the change; null when there is no such software house (deleted meanwhile too). */
  async update(id: string, data: Partial<SoftwareHouseData>): Promise<SoftwareHouseRow | null> {
    return constrained(() => this.db.softwareHouse.update({ where: { id }, data })).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'P2025') return null;
      throw err;
    });
  }

  /** Deletes the software house; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const { count } = await constrained(() => this.db.softwareHouse.deleteMany({ where: { id } }));
    return count > 0;
  }
}
