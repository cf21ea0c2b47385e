import { assertOrderEditableByVenue } from '../../locks/order-lock-guard';
import { DomainError } from '../../admin/errors';
import { orderDeletionRefusal } from '../../core/rules';
import { OrdersRepository as Orders } from '../../repositories/orders.repository';
import type { VenueDeps } from '../ports';

/**
 * Deletes an order unless Dojo holds a live lock on it (409 with lockExpiresAt) or it has money recorded against it
 * (409 order_has_payments: core/rules orderDeletionRefusal), and tells Dojo it changed (outbox). Two round trips on
 * pg, as UpsertOrder.
 */
export class DeleteOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string): Promise<void> {
    await this.d.venue.sqlTransaction(async (s) => {
      const edit = await s.openOrderEdit(locationId, orderId, [], { money: true });
      if (!edit.current) throw DomainError.notFound('order', orderId);
      assertOrderEditableByVenue(edit.lock, orderId);
      const money = edit.money!;
      const refused = orderDeletionRefusal(orderId, money);
      if (refused) {
        throw DomainError.conflict(refused, { error: 'order_has_payments', payments: money.payments, paymentIntents: money.paymentIntents, counterSaleRunning: money.openCounterSaleAmount > 0n });
      }
      // Dojo reads a NotFound after OrderUpdated as "deleted".
      await s.commitWithPosEvent([Orders.deleteOrder(locationId, orderId)], locationId, 'OrderUpdated', orderId, { orderId });
    });
  }
}
