/**
 * Keys that several paths must spell the same way. Each is a string given to
 * Postgres' hashtextextended() for a transaction advisory lock, or a natural
 * key of a stored row.
 */

/**
 * Serialises all work on one payment intent at a location: the recording of
 * its payment (RecordPayment) and the Dojo events about it (events worker).
 */
export const paymentIntentLockKey = (locationId: string, paymentIntentId: string): string => `dojo-intent:${locationId}:${paymentIntentId}`;

/** The idempotency key of a request: one answer per (location, request id); a repeated id is answered from the stored one. */
export const requestIdempotencyKey = (locationId: string, requestId: string): string => `rpc:${locationId}:${requestId}`;

/** Serialises the creation of the order for one Dojo order id (CreateOrder is idempotent on it). */
export const dojoOrderLockKey = (locationId: string, dojoOrderId: string): string => `order:${locationId}:${dojoOrderId}`;

/** Serialises the table-level changes of pay at table by table (lock, payments, unlock of a table's orders). */
export const tableLockKey = (locationId: string, tableId: string): string => `table:${locationId}:${tableId}`;
