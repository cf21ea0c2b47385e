import { DomainError, isForeignKeyViolation } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes an area; refused (conflict) while tables are still in it. */
export class DeleteArea {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, areaId: string): Promise<void> {
    try {
      if (!(await this.d.venue.transaction((s) => s.tables.deleteArea(locationId, areaId)))) throw DomainError.notFound('area', areaId);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw DomainError.conflict(`area ${JSON.stringify(areaId)} still has tables`);
      throw err;
    }
  }
}
