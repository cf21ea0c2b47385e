import { EposError, Models } from '@app/contracts';
import { lockedOrderForChange } from '../../orders/order-for-change';
import { orderToDojo } from '../../orders/order-mapper';
import { liveLock } from '../../core/rules';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { ordersRepo, OrdersRepository as Orders, Write } from '../../repositories/orders.repository';

/**
 * DeleteOrderLockV1: releases Dojo's lock. Releasing a lock that is already
 * gone (released, expired) returns the order; another live lock is Conflict.
 * Releasing a lock does not touch the order row, so the order read under its
 * row lock is what is returned.
 */
export class DeleteOrderLock implements UseCase<Models.DeleteOrderLockRequest, Models.Order> {
  plan(locationId: string, params: Models.DeleteOrderLockRequest): MutationPlan | undefined {
    return typeof params?.orderId === 'string' ? Orders.changePlan(locationId, params.orderId) : undefined;
  }

  async execute(ctx: ExecContext, params: Models.DeleteOrderLockRequest): Promise<Models.Order> {
    const { db, locationId, now } = ctx;
    const { order, lock: current } = lockedOrderForChange(ctx, params.orderId);
    const live = liveLock(current, now);
    if (live && live.lockId !== params.lockId) {
      throw EposError.conflict(`order ${params.orderId} is locked by another lock (${live.lockId}); lock ${params.lockId} is not held`);
    }
    const result = orderToDojo(order);
    const writes: Write[] = [];
    if (current && (current.lockId === params.lockId || !live)) {
      writes.push(
        Orders.deleteLock(locationId, params.orderId),
        ...Orders.publishChange(locationId, params.orderId, 'lock.released', { orderId: params.orderId, lockId: current.lockId, expired: !live }),
      );
    }
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await ordersRepo(db).commit(writes);
    return result;
  }
}
