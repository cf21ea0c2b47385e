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

/**
 * Why Dojo may not take a new lock on an order for payment while counter sales run against it (`openCounterSales`,
 * minor units they may still take), or undefined when it may. A card machine at the table and a counter terminal
 * would otherwise both charge the bill: a counter sale is refused while Dojo holds a lock, and this is the reverse.
 */
export function counterSaleLockRefusal(orderId: string, openCounterSales: bigint): string | undefined {
  if (openCounterSales <= 0n) return undefined;
  return `order ${orderId} is being paid at a counter terminal (${openCounterSales} still running, or with an outcome the venue has not resolved); try again once it has finished`;
}

/** Whether a live lock at `now` is held by someone other than `lockId`. */
export function isHeldByAnother(lock: OrderLockState | null | undefined, lockId: string, now: Date): boolean {
  return !!lock && isLockLive(lock, now) && lock.lockId !== lockId;
}

/** A lock's requested expiry must be after `now` (a lock that is born expired holds nothing). */
export function isValidLockExpiry(expiresAt: Date, now: Date): boolean {
  return expiresAt.getTime() > now.getTime();
}

/**
 * How the legacy terminal dialects name a terminal's lock: `prefix + terminalId` when the message names the
 * terminal, `unnamed` when it does not. A terminal's messages do not always name it alike (the Tables API's
 * LockSession names it only in requestorInfo, its RecordPayment may name it only in the card details; Connect's
 * `tid` is optional on each message), so a lock and the payment taken under it can carry different names.
 */
export interface TerminalLockNames {
  prefix: string;
  unnamed: string;
  terminalId?: string;
}

/** The lock name a terminal's message gives. */
export function terminalLockRef(names: TerminalLockNames): string {
  return names.terminalId !== undefined ? names.prefix + names.terminalId : names.unnamed;
}

/**
 * Whether lock `lockId` is the named (or unnamed) terminal's own, for its payment or its unlock: the same
 * terminal's lock, or one of the two does not name its terminal. Only a lock that names another terminal of the
 * dialect, or a lock of another dialect, is someone else's. Refusing a payment the card machine has already taken,
 * or keeping a table locked for its whole lifetime, costs more than trusting a missing name, so a name missing on
 * either side is not read as another terminal.
 */
export function isTerminalsLock(lockId: string, names: TerminalLockNames): boolean {
  if (lockId === names.unnamed) return true;
  if (!lockId.startsWith(names.prefix)) return false;
  return names.terminalId === undefined || lockId === names.prefix + names.terminalId;
}

/**
 * The lock a terminal's message (a payment, an unlock) acts under: the order's live lock when the message's
 * terminal names cover it (isTerminalsLock), else the name the message gives. Dialects that name locks exactly
 * pass no names.
 */
export function heldLockRef<R extends string | undefined>(live: OrderLockState | null, lockRef: R, names: TerminalLockNames | undefined): string | R {
  if (names && live && isTerminalsLock(live.lockId, names)) return live.lockId;
  return lockRef;
}
