import { EposError, Models } from '@app/contracts';
import { lockedOrderForChange } from '../../orders/order-for-change';
import { orderToDojo } from '../../orders/order-mapper';
import { isClosedStatus, liveLock } from '../../core/rules';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { ordersRepo, OrdersRepository as Orders, Write } from '../../repositories/orders.repository';
import { parseFutureExpiry } from '../order-lock-guard';

/**
 * CreateOrderLockV1: Dojo's write lock on an order while it takes a payment.
 * The same lockId again is idempotent (its expiry is set to the one sent);
 * another live lock is Conflict; an expired lock is replaced. Returns the
 * order as it is once locked.
 *
 * Under RpcDispatcher: the order row lock and the read of the order with its
 * lock row come from the plan; the lock write, the venue feed entry, the POS
 * event and the stored response are one statement.
 */
export class CreateOrderLock implements UseCase<Models.CreateOrderLockRequest, Models.Order> {
  plan(locationId: string, params: Models.CreateOrderLockRequest): MutationPlan | undefined {
    return typeof params?.orderId === 'string' ? Orders.changePlan(locationId, params.orderId) : undefined;
  }

  async execute(ctx: ExecContext, params: Models.CreateOrderLockRequest): Promise<Models.Order> {
    const { db, locationId, now } = ctx;
    const expiresAt = parseFutureExpiry(params.expiry, now);
    const { order, lock: current } = lockedOrderForChange(ctx, params.orderId);
    if (isClosedStatus(order.status)) {
      throw EposError.conflict(`order ${order.id} is ${order.status}; there is nothing to lock for payment`);
    }
    const live = liveLock(current, now);
    if (live && live.lockId !== params.lockId) {
      throw EposError.conflict(
        `order ${order.id} is already locked by lock ${live.lockId} until ${live.expiresAt.toISOString()}; release it first`,
      );
    }
    const result = orderToDojo(order);
    const writes: Write[] = [];
    if (live && live.lockId === params.lockId) {
      if (live.expiresAt.getTime() !== expiresAt.getTime()) {
        writes.push(Orders.setLockExpiry(locationId, order.id, expiresAt, new Date()));
      }
    } else {
      const at = new Date();
      writes.push(
        Orders.putLock(locationId, order.id, params.lockId, expiresAt, at, now),
        ...Orders.publishChange(locationId, order.id, 'lock.created', {
          orderId: order.id,
          lockId: params.lockId,
          expiresAt: expiresAt.toISOString(),
          replacedExpiredLock: current ? current.lockId : undefined,
        }),
      );
    }
    if (writes.length > 0 && ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await ordersRepo(db).commit(writes);
    return result;
  }
}
