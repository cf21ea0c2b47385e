import { EposError, Models } from '@app/contracts';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { ordersRepo, OrdersRepository as Orders, Write } from '../../repositories/orders.repository';
import { lockedOrderForChange } from '../order-for-change';
import { orderToDojo } from '../order-mapper';
import { isClosedStatus } from '../../core/rules';

/**
 * CancelOrderByIdV1. Cancelling an order that is already Canceled returns it
 * unchanged. A Finalized or Failed order, or one with payments recorded
 * against it, cannot be cancelled (Conflict). Any Dojo lock on it is released.
 * The returned order is the one read under the row lock with the change
 * applied (status, payable, version, updatedAt as written).
 */
export class CancelOrderById implements UseCase<Models.OrderId, Models.Order> {
  plan(locationId: string, params: Models.OrderId): MutationPlan | undefined {
    return typeof params?.orderId === 'string' ? Orders.changePlan(locationId, params.orderId) : undefined;
  }

  async execute(ctx: ExecContext, params: Models.OrderId): Promise<Models.Order> {
    const { db, locationId } = ctx;
    const { order } = lockedOrderForChange(ctx, params.orderId);
    if (order.status === 'Canceled') return orderToDojo(order);
    if (isClosedStatus(order.status)) {
      throw EposError.conflict(`order ${order.id} is ${order.status} and can no longer be cancelled`);
    }
    if (order.paidAmount > 0n) {
      throw EposError.conflict(
        `order ${order.id} has ${order.paidAmount} (minor units) paid against it; refund its payments before cancelling it`,
      );
    }
    const updatedAt = new Date();
    const result = orderToDojo({ ...order, status: 'Canceled', payable: false, version: order.version + 1, updatedAt });
    const writes: Write[] = [
      ...Orders.cancel(locationId, order.id, updatedAt),
      ...Orders.publishChange(locationId, order.id, 'order.cancelled', { orderId: order.id, previousStatus: order.status }),
    ];
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await ordersRepo(db).commit(writes);
    return result;
  }
}
