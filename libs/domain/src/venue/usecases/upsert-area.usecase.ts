import type { Models } from '@app/contracts';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { requireVenueEntity } from '../validation';

/** Creates or replaces an area from Dojo's Area shape. */
export class UpsertArea {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, areaId: string, body: unknown): Promise<VenueUpsertResult> {
    const a = requireVenueEntity<Models.Area>('Area', 'area', areaId, body);
    const existing = await this.d.prisma.area.findUnique({ where: { locationId_id: { locationId, id: areaId } }, select: { id: true } });
    await this.d.prisma.area.upsert({
      where: { locationId_id: { locationId, id: areaId } },
      create: { locationId, id: areaId, name: a.name, waiterIds: a.waiterIds ?? [] },
      update: { name: a.name, waiterIds: a.waiterIds ?? [] },
    });
    return { id: areaId, created: !existing };
  }
}
