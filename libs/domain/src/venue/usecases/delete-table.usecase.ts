import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes a table. */
export class DeleteTable {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, tableId: string): Promise<void> {
    const { count } = await this.d.prisma.diningTable.deleteMany({ where: { locationId, id: tableId } });
    if (count === 0) throw DomainError.notFound('table', tableId);
  }
}
