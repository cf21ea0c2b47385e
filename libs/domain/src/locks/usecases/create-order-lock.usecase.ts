import { EposError, Models } from '@app/contracts';
import { orderToDojo } from '../../orders/order-mapper';
import { CLOSED_STATUSES, lockOrderRow, publishOrderChange, requireOrder } from '../../orders/order-store';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { parseFutureExpiry } from '../order-lock-guard';

/**
 * CreateOrderLockV1: Dojo's write lock on an order while it takes a payment.
 * The same lockId again is idempotent (its expiry is set to the one sent);
 * another live lock is Conflict; an expired lock is replaced. Returns the
 * order as it is once locked.
 */
export class CreateOrderLock implements UseCase<Models.CreateOrderLockRequest, Models.Order> {
  async execute(ctx: ExecContext, params: Models.CreateOrderLockRequest): Promise<Models.Order> {
    const { db, locationId, now } = ctx;
    const expiresAt = parseFutureExpiry(params.expiry, now);
    await lockOrderRow(db, locationId, params.orderId);
    const order = await requireOrder(db, locationId, params.orderId);
    if (CLOSED_STATUSES.has(order.status)) {
      throw EposError.conflict(`order ${order.id} is ${order.status}; there is nothing to lock for payment`);
    }
    const current = await db.orderLock.findUnique({ where: { locationId_orderId: { locationId, orderId: order.id } } });
    const live = current && current.expiresAt.getTime() > now.getTime();
    if (live && current.lockId !== params.lockId) {
      throw EposError.conflict(
        `order ${order.id} is already locked by lock ${current.lockId} until ${current.expiresAt.toISOString()}; release it first`,
      );
    }
    if (live && current.lockId === params.lockId) {
      if (current.expiresAt.getTime() !== expiresAt.getTime()) {
        await db.orderLock.update({ where: { locationId_orderId: { locationId, orderId: order.id } }, data: { expiresAt } });
      }
      return orderToDojo(order);
    }
    await db.orderLock.upsert({
      where: { locationId_orderId: { locationId, orderId: order.id } },
      create: { locationId, orderId: order.id, lockId: params.lockId, expiresAt },
      update: { lockId: params.lockId, expiresAt, createdAt: now },
    });
    await publishOrderChange(db, locationId, order.id, 'lock.created', {
      orderId: order.id,
      lockId: params.lockId,
      expiresAt: expiresAt.toISOString(),
      replacedExpiredLock: current ? current.lockId : undefined,
    });
    return orderToDojo(order);
  }
}
