import { DomainError, isForeignKeyViolation, isUniqueViolation } from './errors';
import type { AdminDeps } from './ports';
import { SetLocationEnabled } from './locations.usecases';

export interface SoftwareHouseInput {
  name: string;
  dojoSoftwareHouseId: string;
  resellerId?: string | null;
}

export interface SoftwareHouseView {
  id: string;
  name: string;
  dojoSoftwareHouseId: string;
  resellerId: string | null;
  locationCount?: number;
  createdAt: string;
  updatedAt: string;
}

type Row = { id: string; name: string; dojoSoftwareHouseId: string; resellerId: string | null; createdAt: Date; updatedAt: Date; _count?: { locations: number } };

function view(r: Row): SoftwareHouseView {
  return {
    id: r.id,
    name: r.name,
    dojoSoftwareHouseId: r.dojoSoftwareHouseId,
    resellerId: r.resellerId,
    ...(r._count ? { locationCount: r._count.locations } : {}),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export class CreateSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(input: SoftwareHouseInput): Promise<SoftwareHouseView> {
    try {
      return view(await this.d.prisma.softwareHouse.create({ data: { name: input.name, dojoSoftwareHouseId: input.dojoSoftwareHouseId, resellerId: input.resellerId ?? null } }));
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict(`a software house with dojoSoftwareHouseId ${JSON.stringify(input.dojoSoftwareHouseId)} exists`);
      throw err;
    }
  }
}

export class ListSoftwareHouses {
  constructor(private readonly d: AdminDeps) {}
  async execute(q: { limit: number; cursor?: string }): Promise<{ items: SoftwareHouseView[]; nextCursor: string | null }> {
    const rows = await this.d.prisma.softwareHouse.findMany({
      where: q.cursor ? { id: { gt: q.cursor } } : {},
      orderBy: { id: 'asc' },
      take: q.limit + 1,
      include: { _count: { select: { locations: true } } },
    });
    const page = rows.slice(0, q.limit);
    return { items: page.map(view), nextCursor: rows.length > q.limit ? page[page.length - 1].id : null };
  }
}

export class GetSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string): Promise<SoftwareHouseView> {
    const r = await this.d.prisma.softwareHouse.findUnique({ where: { id }, include: { _count: { select: { locations: true } } } });
    if (!r) throw DomainError.notFound('software house', id);
    return view(r);
  }
}

export class UpdateSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string, input: Partial<SoftwareHouseInput>): Promise<SoftwareHouseView> {
    const exists = await this.d.prisma.softwareHouse.findUnique({ where: { id }, select: { id: true } });
    if (!exists) throw DomainError.notFound('software house', id);
    try {
      return view(
        await this.d.prisma.softwareHouse.update({
          where: { id },
          data: {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.dojoSoftwareHouseId !== undefined ? { dojoSoftwareHouseId: input.dojoSoftwareHouseId } : {}),
            ...(input.resellerId !== undefined ? { resellerId: input.resellerId } : {}),
          },
        }),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict('another software house has that dojoSoftwareHouseId');
      throw err;
    }
  }
}

/** Disables every location of a software house (each one reaches the gateways at once). */
export class DisableSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string): Promise<{ disabledLocations: number }> {
    const sh = await this.d.prisma.softwareHouse.findUnique({ where: { id }, select: { id: true } });
    if (!sh) throw DomainError.notFound('software house', id);
    const locs = await this.d.prisma.location.findMany({ where: { softwareHouseId: id, enabled: true }, select: { id: true } });
    const setEnabled = new SetLocationEnabled(this.d);
    for (const l of locs) await setEnabled.execute(l.id, false);
    return { disabledLocations: locs.length };
  }
}

export class DeleteSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string): Promise<void> {
    try {
      const { count } = await this.d.prisma.softwareHouse.deleteMany({ where: { id } });
      if (count === 0) throw DomainError.notFound('software house', id);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw DomainError.conflict('the software house still has locations; delete them first');
      throw err;
    }
  }
}
