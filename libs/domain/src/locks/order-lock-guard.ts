import type { Tx } from '../shared/tx';
import { DomainError } from '../admin/errors';
import { liveLock } from '../core/rules';
import { ordersRepo } from '../repositories/orders.repository';

export interface LiveLock {
  lockId: string;
  expiresAt: Date;
}

/** The order's Dojo lock if it is still live at `now` (an expired lock counts as absent). */
export async function findLiveLock(db: Tx, locationId: string, orderId: string, now: Date): Promise<LiveLock | null> {
  return liveLock(await ordersRepo(db).findLock(locationId, orderId), now);
}

/**
 * For the venue's own edits (venue API): refuses a change to an order while
 * Dojo holds a live lock on it, as a `locked` DomainError (409) that carries
 * lockExpiresAt so the venue knows when to try again. Call it in the same
 * transaction as the edit, after taking the order row lock (lockOrderRow /
 * lockOrderRowIfExists), so a lock cannot appear between the check and the write.
 */
export async function assertOrderEditableByVenue(db: Tx, locationId: string, orderId: string, now = new Date()): Promise<void> {
  const lock = await findLiveLock(db, locationId, orderId, now);
  if (lock) {
    const lockExpiresAt = lock.expiresAt.toISOString();
    throw new DomainError('locked', `order ${JSON.stringify(orderId)} is locked by Dojo until ${lockExpiresAt}`, [], { lockExpiresAt });
  }
}
