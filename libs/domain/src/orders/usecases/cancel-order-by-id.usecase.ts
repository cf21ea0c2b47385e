import { DomainRefusal } from '../../core/refusal';
import type { CancelOrder, Order } from '../../core/commands';
import { isClosedStatus } from '../../core/rules';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import type { Write } from '../../repositories/orders.repository';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';
import { lockedOrderForChange } from '../order-for-change';

/**
 * CancelOrder. Cancelling an order that is already Canceled returns it
 * unchanged. A closed order (core/rules), one with payments recorded against
 * it, one a counter terminal is charging (a counter sale running, or whose
 * outcome the venue has not resolved), or one with an open payment intent (a
 * checkout link out, which a guest may still pay) cannot be cancelled
 * (Conflict): the sale or the link's payment would find the order closed once
 * the card was charged. Any Dojo lock on it is released.
 * The returned order is the one read under the row lock with the change
 * applied (status, payable, version, updatedAt as written).
 */
export class CancelOrderById implements UseCase<CancelOrder, Order> {
  plan(locationId: string, cmd: CancelOrder): MutationPlan {
    return Orders.changePlan(locationId, cmd.orderId, { counterSales: true, openIntents: true });
  }

  async execute(ctx: ExecContext, cmd: CancelOrder): Promise<Order> {
    const { db, locationId } = ctx;
    const { order, openCounterSales, openIntents } = lockedOrderForChange(ctx, cmd.orderId);
    if (order.status === 'Canceled') return order;
    if (isClosedStatus(order.status)) {
      throw DomainRefusal.conflict(`order ${order.id} is ${order.status} and can no longer be cancelled`);
    }
    if (order.paidAmount > 0n) {
      throw DomainRefusal.conflict(
        `order ${order.id} has ${order.paidAmount} (minor units) paid against it; refund its payments before cancelling it`,
      );
    }
    if (openCounterSales > 0n) {
      throw DomainRefusal.conflict(`order ${order.id} is being paid at a counter terminal (${openCounterSales} running or not resolved); cancel it once that has ended`);
    }
    if (openIntents > 0n) {
      throw DomainRefusal.conflict(
        `order ${order.id} has a checkout link out (${openIntents} in open payment intents, which a guest may still pay); cancel it once the venue has canceled the intents or they have ended`,
      );
    }
    const updatedAt = new Date();
    const result: Order = { ...order, status: 'Canceled', payable: false, version: order.version + 1, updatedAt };
    const writes: Write[] = [
      ...Orders.cancel(locationId, order.id, updatedAt),
      ...Orders.publishChange(locationId, order.id, 'order.cancelled', { orderId: order.id, previousStatus: order.status }),
    ];
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await ordersRepo(db).commit(writes);
    return result;
  }
}
