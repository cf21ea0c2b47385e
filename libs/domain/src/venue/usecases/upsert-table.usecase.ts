import type { Models } from '@app/contracts';
import { DomainError, isForeignKeyViolation } from '../../admin/errors';
import { tableNameRefusal } from '../../core/rules';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { requireInt4, requireVenueEntity } from '../validation';

/**
 * Creates or replaces a table from Dojo's Table shape; its area, when given, must exist at the venue, and its name
 * must suit the venue's card machines (core/rules tableNameRefusal: no " - " on the Tables API).
 */
export class UpsertTable {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, tableId: string, body: unknown): Promise<VenueUpsertResult> {
    const t = requireVenueEntity<Models.Table>('Table', 'table', tableId, body);
    if (t.maxCovers !== undefined && t.maxCovers < 0) throw DomainError.invalid([{ field: 'maxCovers', reason: 'must not be negative' }]);
    requireInt4([[t.maxCovers, 'maxCovers']]);
    const nameRefusal = tableNameRefusal(t.name, (await this.d.venue.locations.protocol(locationId)) ?? '');
    if (nameRefusal !== undefined) throw DomainError.invalid([{ field: 'name', reason: nameRefusal }]);
    const data = { name: t.name, maxCovers: t.maxCovers ?? null, areaId: t.areaId ?? null, waiterIds: t.waiterIds ?? [] };
    try {
      const { created } = await this.d.venue.transaction((s) => s.tables.saveTable(locationId, tableId, data));
      return { id: tableId, created };
    } catch (err) {
      if (isForeignKeyViolation(err)) throw DomainError.invalid([{ field: 'areaId', reason: `no area ${JSON.stringify(t.areaId)} at this venue` }]);
      throw err;
    }
  }
}
