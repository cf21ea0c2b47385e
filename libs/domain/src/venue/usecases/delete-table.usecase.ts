import { DomainError } from '../../admin/errors';
import { tableDeletionRefusal } from '../../core/rules';
import type { VenueDeps } from '../ports';

/**
 * Deletes a table unless open orders name it (409 table_in_use with openOrders: core/rules tableDeletionRefusal).
 * The table's row is locked (FOR UPDATE) before the orders are counted: an order write naming the table holds a
 * key-share lock on it until it commits (VenueStore.openOrderEdit), so the count sees every order written before the
 * delete held the row, and none can name the table after it until the delete ends.
 */
export class DeleteTable {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, tableId: string): Promise<void> {
    await this.d.venue.transaction(async (s) => {
      if (!(await s.tables.lockTableForDelete(locationId, tableId))) throw DomainError.notFound('table', tableId);
      const openOrders = await s.orders.countOpenAtTable(locationId, tableId);
      const refused = tableDeletionRefusal(tableId, openOrders);
      if (refused) throw DomainError.conflict(refused, { error: 'table_in_use', openOrders });
      await s.tables.deleteTable(locationId, tableId);
    });
  }
}
