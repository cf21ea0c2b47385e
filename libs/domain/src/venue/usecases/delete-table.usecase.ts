import { DomainError } from '../../admin/errors';
import { tablesRepo } from '../../repositories/tables.repository';
import type { VenueDeps } from '../ports';

/** Deletes a table. */
export class DeleteTable {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, tableId: string): Promise<void> {
    if (!(await tablesRepo(this.d.prisma).deleteTable(locationId, tableId))) throw DomainError.notFound('table', tableId);
  }
}
