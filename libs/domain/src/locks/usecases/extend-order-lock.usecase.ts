import { DomainRefusal } from '../../core/refusal';
import type { ExtendLock, Lock } from '../../core/commands';
import { liveLock } from '../../core/rules';
import { lockedOrderForChange } from '../../orders/order-for-change';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import type { Write } from '../../repositories/orders.repository';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';

/**
 * ExtendLock: moves the expiry of Dojo's live lock. A lock that expired or
 * was released, or another lock, is Conflict (create a new lock instead).
 * Returns the lock as extended.
 */
export class ExtendOrderLock implements UseCase<ExtendLock, Lock> {
  plan(locationId: string, cmd: ExtendLock): MutationPlan {
    return Orders.changePlan(locationId, cmd.orderId);
  }

  async execute(ctx: ExecContext, cmd: ExtendLock): Promise<Lock> {
    const { db, locationId, now } = ctx;
    const { lock: current } = lockedOrderForChange(ctx, cmd.orderId);
    const live = liveLock(current, now);
    if (!live) {
      const why = current ? `expired at ${current.expiresAt.toISOString()}` : 'is not held (released or never created)';
      throw DomainRefusal.conflict(`lock ${cmd.lockRef} on order ${cmd.orderId} ${why}; create a new lock`);
    }
    if (live.lockId !== cmd.lockRef) {
      throw DomainRefusal.conflict(`order ${cmd.orderId} is locked by another lock (${live.lockId}); lock ${cmd.lockRef} cannot be extended`);
    }
    const result: Lock = { lockRef: cmd.lockRef, expiresAt: cmd.expiresAt };
    const writes: Write[] = [
      Orders.setLockExpiry(locationId, cmd.orderId, cmd.expiresAt, new Date()),
      ...Orders.publishChange(locationId, cmd.orderId, 'lock.extended', {
        orderId: cmd.orderId,
        lockId: cmd.lockRef,
        expiresAt: cmd.expiresAt.toISOString(),
      }),
    ];
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await ordersRepo(db).commit(writes);
    return result;
  }
}
