import { DomainError } from '../admin/errors';
import { liveLock } from '../core/rules';
import type { OrderLockRow } from '../repositories/orders.repository';

/**
 * For the venue's own edits (venue API): refuses a change to an order while
 * Dojo holds a live lock on it (an expired lock counts as absent), as a `locked`
 * DomainError (409) that carries lockExpiresAt so the venue knows when to try
 * again. Give it the lock as read in the edit's transaction after the order
 * row lock was taken (VenueStore.openOrderEdit), so a lock cannot appear
 * between the check and the write.
 */
export function assertOrderEditableByVenue(lockRow: OrderLockRow | null, orderId: string, now = new Date()): void {
  const lock = liveLock(lockRow, now);
  if (lock) {
    const lockExpiresAt = lock.expiresAt.toISOString();
    throw new DomainError('locked', `order ${JSON.stringify(orderId)} is locked by Dojo until ${lockExpiresAt}`, [], { lockExpiresAt });
  }
}
