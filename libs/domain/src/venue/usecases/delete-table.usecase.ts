import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes a table. */
export class DeleteTable {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, tableId: string): Promise<void> {
    if (!(await this.d.venue.transaction((s) => s.tables.deleteTable(locationId, tableId)))) throw DomainError.notFound('table', tableId);
  }
}
