import { EposError, Models } from '@app/contracts';
import { orderToDojo } from '../../orders/order-mapper';
import { lockOrderRow, publishOrderChange, requireOrder } from '../../orders/order-store';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * DeleteOrderLockV1: releases Dojo's lock. Releasing a lock that is already
 * gone (released, expired) returns the order; another live lock is Conflict.
 */
export class DeleteOrderLock implements UseCase<Models.DeleteOrderLockRequest, Models.Order> {
  async execute(ctx: ExecContext, params: Models.DeleteOrderLockRequest): Promise<Models.Order> {
    const { db, locationId, now } = ctx;
    await lockOrderRow(db, locationId, params.orderId);
    const current = await db.orderLock.findUnique({ where: { locationId_orderId: { locationId, orderId: params.orderId } } });
    const live = current && current.expiresAt.getTime() > now.getTime();
    if (live && current.lockId !== params.lockId) {
      throw EposError.conflict(`order ${params.orderId} is locked by another lock (${current.lockId}); lock ${params.lockId} is not held`);
    }
    if (current && (current.lockId === params.lockId || !live)) {
      await db.orderLock.delete({ where: { locationId_orderId: { locationId, orderId: params.orderId } } });
      await publishOrderChange(db, locationId, params.orderId, 'lock.released', {
        orderId: params.orderId,
        lockId: current.lockId,
        expired: !live,
      });
    }
    return orderToDojo(await requireOrder(db, locationId, params.orderId));
  }
}
