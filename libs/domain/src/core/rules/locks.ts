/**
 * Dojo's write lock on an order. A lock row may outlive its expiry: it is live
 * only while expiresAt is after `now`; an expired lock counts as absent (it is
 * replaced by a new lock, and a payment or release ignores it).
 */
export interface OrderLockState {
  lockId: string;
  expiresAt: Date;
}

export function isLockLive(lock: OrderLockState | null | undefined, now: Date): boolean {
  return !!lock && lock.expiresAt.getTime() > now.getTime();
}

/** The lock if it is live at `now`, else null. */
export function liveLock<L extends OrderLockState>(lock: L | null | undefined, now: Date): L | null {
  return lock && isLockLive(lock, now) ? lock : null;
}

/** Whether a live lock at `now` is held by someone other than `lockId`. */
export function isHeldByAnother(lock: OrderLockState | null | undefined, lockId: string, now: Date): boolean {
  return !!lock && isLockLive(lock, now) && lock.lockId !== lockId;
}

/** A lock's requested expiry must be after `now` (a lock that is born expired holds nothing). */
export function isValidLockExpiry(expiresAt: Date, now: Date): boolean {
  return expiresAt.getTime() > now.getTime();
}
