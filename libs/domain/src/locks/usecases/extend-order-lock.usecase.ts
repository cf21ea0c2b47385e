import { EposError, Models } from '@app/contracts';
import { lockOrderRow, publishOrderChange } from '../../orders/order-store';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { parseFutureExpiry } from '../order-lock-guard';

/**
 * ExtendOrderLockV1: moves the expiry of Dojo's live lock. A lock that expired
 * or was released, or another lock, is Conflict (create a new lock instead).
 */
export class ExtendOrderLock implements UseCase<Models.ExtendOrderLockRequest, Record<string, never>> {
  async execute(ctx: ExecContext, params: Models.ExtendOrderLockRequest): Promise<Record<string, never>> {
    const { db, locationId, now } = ctx;
    const expiresAt = parseFutureExpiry(params.expiry, now);
    await lockOrderRow(db, locationId, params.orderId);
    const current = await db.orderLock.findUnique({ where: { locationId_orderId: { locationId, orderId: params.orderId } } });
    const live = current && current.expiresAt.getTime() > now.getTime();
    if (!live) {
      const why = current ? `expired at ${current.expiresAt.toISOString()}` : 'is not held (released or never created)';
      throw EposError.conflict(`lock ${params.lockId} on order ${params.orderId} ${why}; create a new lock`);
    }
    if (current.lockId !== params.lockId) {
      throw EposError.conflict(`order ${params.orderId} is locked by another lock (${current.lockId}); lock ${params.lockId} cannot be extended`);
    }
    await db.orderLock.update({ where: { locationId_orderId: { locationId, orderId: params.orderId } }, data: { expiresAt } });
    await publishOrderChange(db, locationId, params.orderId, 'lock.extended', {
      orderId: params.orderId,
      lockId: params.lockId,
      expiresAt: expiresAt.toISOString(),
    });
    return {};
  }
}
