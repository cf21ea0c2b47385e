import { DomainRefusal } from '../../core/refusal';
import type { LockOrder, Order } from '../../core/commands';
import { counterSaleLockRefusal, isClosedStatus, isWaiterAllowed, liveLock } from '../../core/rules';
import { lockedOrderForChange } from '../../orders/order-for-change';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import type { Write } from '../../repositories/orders.repository';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';

/**
 * LockOrder: Dojo's write lock on an order while it takes a payment. The same
 * lockRef again is idempotent (its expiry is set to the one sent), unless the
 * lock names no holder (`unnamed`: any live lock refuses it); another live
 * lock is Conflict; an expired lock is replaced; a closed order cannot be
 * locked. Returns the order as it is once locked.
 *
 * The order row lock and the read of the order with its lock row come from the
 * plan; the lock write, the venue feed entry, the POS event and the stored
 * response are one statement.
 */
export class CreateOrderLock implements UseCase<LockOrder, Order> {
  plan(locationId: string, cmd: LockOrder): MutationPlan {
    return Orders.changePlan(locationId, cmd.orderId, { counterSales: true });
  }

  async execute(ctx: ExecContext, cmd: LockOrder): Promise<Order> {
    const { db, locationId, now } = ctx;
    const { expiresAt } = cmd;
    const { order, lock: current, openCounterSales } = lockedOrderForChange(ctx, cmd.orderId);
    if (cmd.waiterId !== undefined && !isWaiterAllowed(order.waiterId, cmd.waiterId)) {
      throw DomainRefusal.conflict(`order ${order.id} belongs to another waiter than ${cmd.waiterId}`, 'wrong_waiter');
    }
    if (isClosedStatus(order.status)) {
      throw DomainRefusal.conflict(`order ${order.id} is ${order.status}; there is nothing to lock for payment`, 'closed');
    }
    const live = liveLock(current, now);
    // A lock that names no holder cannot tell its own retry from another device's lock: it is never renewed.
    const renewal = live !== null && live.lockId === cmd.lockRef && !cmd.unnamed;
    if (live && !renewal) {
      const whose = cmd.unnamed ? ' (a lock that names no terminal is not renewed: it may be another device\'s)' : '';
      throw DomainRefusal.conflict(
        `order ${order.id} is already locked by lock ${live.lockId} until ${live.expiresAt.toISOString()}${whose}; release it first`,
        'lock_held',
      );
    }
    const counterSale = renewal ? undefined : counterSaleLockRefusal(order.id, openCounterSales);
    // Held by the counter terminal as a lock would be: the dialects answer it as they answer a lock held.
    if (counterSale) throw DomainRefusal.conflict(counterSale, 'lock_held');
    const writes: Write[] = [];
    if (renewal) {
      if (live.expiresAt.getTime() !== expiresAt.getTime()) {
        writes.push(Orders.setLockExpiry(locationId, order.id, expiresAt, new Date()));
      }
    } else {
      const at = new Date();
      writes.push(
        Orders.putLock(locationId, order.id, cmd.lockRef, expiresAt, at, now),
        ...Orders.publishChange(locationId, order.id, 'lock.created', {
          orderId: order.id,
          lockId: cmd.lockRef,
          expiresAt: expiresAt.toISOString(),
          replacedExpiredLock: current ? current.lockId : undefined,
        }),
      );
    }
    if (writes.length > 0 && ctx.storeResponse) writes.push(ctx.storeResponse('pr', order));
    await ordersRepo(db).commit(writes);
    return order;
  }
}
