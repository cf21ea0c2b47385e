import { createHash } from 'node:crypto';
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

/**
 * The idempotency key of a request: one answer per (location, dialect, request id); a repeated id is answered
 * from the stored one. EPOS Data's keys keep their original spelling (no dialect in them).
 */
export const requestIdempotencyKey = (locationId: string, requestId: string, dialect = 'epos-data'): string =>
  dialect === 'epos-data' ? `rpc:${locationId}:${requestId}` : `rpc:${dialect}:${locationId}:${requestId}`;

/** Serialises the creation of the order for one Dojo order id (CreateOrder is idempotent on it). */
export const dojoOrderLockKey = (locationId: string, dojoOrderId: string): string => `order:${locationId}:${dojoOrderId}`;

/**
 * The stable UUID of the table session an order is (the legacy pay-at-table dialects name sessions by UUID, the
 * venue names orders by its own ids): an RFC 4122 version-3 (MD5, name-based) UUID of `<location id>:<order id>`.
 * The same order always has the same session id. Postgres computes the same value into orders.session_id (a
 * generated column over the SQL function table_session_id, migration 20261202700000_order_session_id, indexed
 * with location_id) so that finding the order of a session is an index probe; tests compare the two.
 */
export function tableSessionId(locationId: string, orderId: string): string {
  const h = createHash('md5').update(`${locationId}:${orderId}`, 'utf8').digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-3${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
/** Serialises the table-level changes of pay at table by table (lock, payments, unlock of a table's orders). */
export const tableLockKey = (locationId: string, tableId: string): string => `table:${locationId}:${tableId}`;
