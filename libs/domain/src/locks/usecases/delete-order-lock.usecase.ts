import { DomainRefusal } from '../../core/refusal';
import type { Order, UnlockOrder } from '../../core/commands';
import { heldLockRef, isWaiterAllowed, liveLock } from '../../core/rules';
import { lockedOrderForChange } from '../../orders/order-for-change';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import type { Write } from '../../repositories/orders.repository';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';

/**
 * UnlockOrder: releases Dojo's lock. Releasing a lock that is already gone
 * (released, expired) returns the order; another live lock is Conflict (a
 * legacy terminal's names cover its own lock: core/rules isTerminalsLock).
 * Releasing a lock does not touch the order row, so the order read under its
 * row lock is what is returned.
 */
export class DeleteOrderLock implements UseCase<UnlockOrder, Order> {
  plan(locationId: string, cmd: UnlockOrder): MutationPlan {
    return Orders.changePlan(locationId, cmd.orderId);
  }

  async execute(ctx: ExecContext, cmd: UnlockOrder): Promise<Order> {
    const { db, locationId, now } = ctx;
    const { order, lock: current } = lockedOrderForChange(ctx, cmd.orderId);
    if (cmd.waiterId !== undefined && !isWaiterAllowed(order.waiterId, cmd.waiterId)) {
      throw DomainRefusal.conflict(`order ${order.id} belongs to another waiter than ${cmd.waiterId}`, 'wrong_waiter');
    }
    const live = liveLock(current, now);
    const lockRef = heldLockRef(live, cmd.lockRef, cmd.terminalLock);
    if (live && live.lockId !== lockRef) {
      throw DomainRefusal.conflict(`order ${cmd.orderId} is locked by another lock (${live.lockId}); lock ${lockRef} is not held`, 'lock_held');
    }
    // The terminal's own lock row, expired (a payment may have been taken under it since: paymentLockOf), is its to
    // release: refusing would leave it for ever, and Dojo unlocks after every payment.
    const ownExpired = !live && current !== null && current !== undefined && current.lockId === cmd.lockRef;
    if (!live && cmd.mustHold && !ownExpired) throw DomainRefusal.conflict(`order ${cmd.orderId} is not locked`, 'not_locked');
    const writes: Write[] = [];
    if (current && (current.lockId === lockRef || !live)) {
      writes.push(
        Orders.deleteLock(locationId, cmd.orderId),
        ...Orders.publishChange(locationId, cmd.orderId, 'lock.released', { orderId: cmd.orderId, lockId: current.lockId, expired: !live }),
      );
    }
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', order));
    await ordersRepo(db).commit(writes);
    return order;
  }
}
