import { EposError, Models } from '@app/contracts';
import { Prisma } from '@app/db';
import { orderChangePlan, lockedOrderForChange, publishOrderChangeCtes } from '../../orders/order-for-change';
import { orderToDojo } from '../../orders/order-mapper';
import { isClosedStatus, liveLock } from '../../core/rules';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { runWrites, tsParam } from '../../shared/write-sql';
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
    return typeof params?.orderId === 'string' ? orderChangePlan(locationId, params.orderId) : undefined;
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
    const writes: Prisma.Sql[] = [];
    if (live && live.lockId === params.lockId) {
      if (live.expiresAt.getTime() !== expiresAt.getTime()) {
        writes.push(Prisma.sql`upd AS (UPDATE order_locks SET expires_at = ${tsParam(expiresAt)}, updated_at = ${tsParam(new Date())}
          WHERE location_id = ${locationId}::uuid AND order_id = ${order.id})`);
      }
    } else {
      const at = new Date();
      writes.push(
        Prisma.sql`lck AS (INSERT INTO order_locks (location_id, order_id, lock_id, expires_at, created_at, updated_at)
          VALUES (${locationId}::uuid, ${order.id}, ${params.lockId}, ${tsParam(expiresAt)}, ${tsParam(at)}, ${tsParam(at)})
          ON CONFLICT (location_id, order_id) DO UPDATE SET lock_id = EXCLUDED.lock_id, expires_at = EXCLUDED.expires_at,
            created_at = ${tsParam(now)}, updated_at = EXCLUDED.updated_at)`,
        ...publishOrderChangeCtes(locationId, order.id, 'lock.created', {
          orderId: order.id,
          lockId: params.lockId,
          expiresAt: expiresAt.toISOString(),
          replacedExpiredLock: current ? current.lockId : undefined,
        }),
      );
    }
    if (writes.length > 0 && ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await runWrites(db, writes);
    return result;
  }
}
