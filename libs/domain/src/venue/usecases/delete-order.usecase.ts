import { enqueuePosEvent } from '../../shared/pos-outbox';
import { ordersRepo } from '../../repositories/orders.repository';
import { assertOrderEditableByVenue } from '../../locks/order-lock-guard';
import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes an order unless Dojo holds a live lock on it, and tells Dojo it changed (outbox). */
export class DeleteOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const orders = ordersRepo(tx);
      const existing = await orders.lockRowIfExists(locationId, orderId);
      if (!existing) throw DomainError.notFound('order', orderId);
      await assertOrderEditableByVenue(tx, locationId, orderId);
      await orders.delete(locationId, orderId);
      // Dojo reads a NotFound after OrderUpdated as "deleted".
      await enqueuePosEvent(tx, locationId, 'OrderUpdated', orderId, { orderId });
    });
  }
}
