import { DomainError } from '../admin/errors';
import { liveLock } from '../core/rules';
import type { OrdersRepository } from '../repositories/orders.repository';

/**
 * For the venue's own edits (venue API): refuses a change to an order while
 * Dojo holds a live lock on it (an expired lock counts as absent), as a `locked`
 * DomainError (409) that carries lockExpiresAt so the venue knows when to try
 * again. Call it with the orders repository of the edit's transaction, after
 * taking the order row lock (lockRowIfExists), so a lock cannot appear between
 * the check and the write.
 */
export async function assertOrderEditableByVenue(orders: OrdersRepository, locationId: string, orderId: string, now = new Date()): Promise<void> {
  const lock = liveLock(await orders.findLock(locationId, orderId), now);
  if (lock) {
    const lockExpiresAt = lock.expiresAt.toISOString();
    throw new DomainError('locked', `order ${JSON.stringify(orderId)} is locked by Dojo until ${lockExpiresAt}`, [], { lockExpiresAt });
  }
}
