import { EposError, Models } from '@app/contracts';
import { lockedOrderForChange } from '../../orders/order-for-change';
import { liveLock } from '../../core/rules';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { ordersRepo, OrdersRepository as Orders, Write } from '../../repositories/orders.repository';
import { parseFutureExpiry } from '../order-lock-guard';

/**
 * ExtendOrderLockV1: moves the expiry of Dojo's live lock. A lock that expired
 * or was released, or another lock, is Conflict (create a new lock instead).
 */
export class ExtendOrderLock implements UseCase<Models.ExtendOrderLockRequest, Record<string, never>> {
  plan(locationId: string, params: Models.ExtendOrderLockRequest): MutationPlan | undefined {
    return typeof params?.orderId === 'string' ? Orders.changePlan(locationId, params.orderId) : undefined;
  }

  async execute(ctx: ExecContext, params: Models.ExtendOrderLockRequest): Promise<Record<string, never>> {
    const { db, locationId, now } = ctx;
    const expiresAt = parseFutureExpiry(params.expiry, now);
    const { lock: current } = lockedOrderForChange(ctx, params.orderId);
    const live = liveLock(current, now);
    if (!live) {
      const why = current ? `expired at ${current.expiresAt.toISOString()}` : 'is not held (released or never created)';
      throw EposError.conflict(`lock ${params.lockId} on order ${params.orderId} ${why}; create a new lock`);
    }
    if (live.lockId !== params.lockId) {
      throw EposError.conflict(`order ${params.orderId} is locked by another lock (${live.lockId}); lock ${params.lockId} cannot be extended`);
    }
    const result: Record<string, never> = {};
    const writes: Write[] = [
      Orders.setLockExpiry(locationId, params.orderId, expiresAt, new Date()),
      ...Orders.publishChange(locationId, params.orderId, 'lock.extended', {
        orderId: params.orderId,
        lockId: params.lockId,
        expiresAt: expiresAt.toISOString(),
      }),
    ];
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await ordersRepo(db).commit(writes);
    return result;
  }
}
