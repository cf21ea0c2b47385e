import { EposError, Models } from '@app/contracts';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { orderToDojo } from '../order-mapper';
import { CLOSED_STATUSES, lockOrderRow, publishOrderChange, requireOrder } from '../order-store';

/**
 * CancelOrderByIdV1. Cancelling an order that is already Canceled returns it
 * unchanged. A Finalized or Failed order, or one with payments recorded
 * against it, cannot be cancelled (Conflict). Any Dojo lock on it is released.
 */
export class CancelOrderById implements UseCase<Models.OrderId, Models.Order> {
  async execute(ctx: ExecContext, params: Models.OrderId): Promise<Models.Order> {
    const { db, locationId } = ctx;
    await lockOrderRow(db, locationId, params.orderId);
    const order = await requireOrder(db, locationId, params.orderId);
    if (order.status === 'Canceled') return orderToDojo(order);
    if (CLOSED_STATUSES.has(order.status)) {
      throw EposError.conflict(`order ${order.id} is ${order.status} and can no longer be cancelled`);
    }
    if (order.paidAmount > 0n) {
      throw EposError.conflict(
        `order ${order.id} has ${order.paidAmount} (minor units) paid against it; refund its payments before cancelling it`,
      );
    }
    await db.orderLock.deleteMany({ where: { locationId, orderId: order.id } });
    await db.order.update({
      where: { locationId_id: { locationId, id: order.id } },
      data: { status: 'Canceled', payable: false, version: { increment: 1 } },
    });
    await publishOrderChange(db, locationId, order.id, 'order.cancelled', { orderId: order.id, previousStatus: order.status });
    return orderToDojo(await requireOrder(db, locationId, order.id));
  }
}
