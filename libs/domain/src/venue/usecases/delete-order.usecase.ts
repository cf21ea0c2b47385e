import { assertOrderEditableByVenue } from '../../locks/order-lock-guard';
import { DomainError } from '../../admin/errors';
import { OrdersRepository as Orders } from '../../repositories/orders.repository';
import type { VenueDeps } from '../ports';

/** Deletes an order unless Dojo holds a live lock on it, and tells Dojo it changed (outbox). Two round trips on pg, as UpsertOrder. */
export class DeleteOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string): Promise<void> {
    await this.d.venue.sqlTransaction(async (s) => {
      const edit = await s.openOrderEdit(locationId, orderId, []);
      if (!edit.current) throw DomainError.notFound('order', orderId);
      assertOrderEditableByVenue(edit.lock, orderId);
      // Dojo reads a NotFound after OrderUpdated as "deleted".
      await s.commitWithPosEvent([Orders.deleteOrder(locationId, orderId)], locationId, 'OrderUpdated', orderId, { orderId });
    });
  }
}
