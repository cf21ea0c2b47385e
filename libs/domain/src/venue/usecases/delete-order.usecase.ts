import { assertOrderEditableByVenue } from '../../locks/order-lock-guard';
import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes an order unless Dojo holds a live lock on it, and tells Dojo it changed (outbox). */
export class DeleteOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string): Promise<void> {
    await this.d.venue.transaction(async (s) => {
      const existing = await s.orders.lockRowIfExists(locationId, orderId);
      if (!existing) throw DomainError.notFound('order', orderId);
      await assertOrderEditableByVenue(s.orders, locationId, orderId);
      await s.orders.delete(locationId, orderId);
      // Dojo reads a NotFound after OrderUpdated as "deleted".
      await s.enqueuePosEvent(locationId, 'OrderUpdated', orderId, { orderId });
    });
  }
}
