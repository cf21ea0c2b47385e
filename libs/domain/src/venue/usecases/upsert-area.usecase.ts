import type { Models } from '@app/contracts';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { requireVenueEntity } from '../validation';

/** Creates or replaces an area from Dojo's Area shape. */
export class UpsertArea {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, areaId: string, body: unknown): Promise<VenueUpsertResult> {
    const a = requireVenueEntity<Models.Area>('Area', 'area', areaId, body);
    const { created } = await this.d.venue.transaction((s) => s.tables.saveArea(locationId, areaId, { name: a.name, waiterIds: a.waiterIds ?? [] }));
    return { id: areaId, created };
  }
}
