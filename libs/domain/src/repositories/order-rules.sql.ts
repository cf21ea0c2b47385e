/**
 * The rules of core/rules that SQL must express, generated from the same
 * constants (one definition). Used by the orders repository only.
 */
import { Prisma } from '@app/db';
import { CLOSED_ORDER_STATUSES, COUNTED_PAYMENT_STATE, NUMERIC_WAITER_ID_PATTERN, waiterNumber } from '../core/rules';

/**
 * The closed statuses as an SQL list, generated from the one definition
 * (core/rules/order-status.ts): `'Canceled', 'Finalized', 'Failed'`.
 */
export const CLOSED_STATUSES_SQL = Prisma.raw(CLOSED_ORDER_STATUSES.map((s) => `'${s}'`).join(', '));

/**
 * core/rules isPayable as an SQL expression over the order row `o` and a paid amount, within the venue's own hold
 * (o.held_by_venue: its POS sent payable false), which no change of the payments lifts.
 */
export function payableSql(paid: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(NOT o.held_by_venue AND ${paid} < o.total_amount AND o.status NOT IN (${CLOSED_STATUSES_SQL}))`;
}

/**
 * core/rules countedAmounts as SQL over the payments row `p`: what a payment
 * counts towards its order's paid amount (Recorded only, net of its refunded
 * amount, the refund coming off the paid amount first).
 */
export const COUNTED_PAID_SQL = Prisma.sql`(CASE WHEN p.state = ${Prisma.raw(`'${COUNTED_PAYMENT_STATE}'`)} THEN GREATEST(p.paid_amount - p.refunded_amount, 0) ELSE 0 END)`;

/** core/rules countedAmounts' tips as SQL over `p`: the tips less what a refund took beyond the paid amount. */
export const COUNTED_TIPS_SQL = Prisma.sql`(CASE WHEN p.state = ${Prisma.raw(`'${COUNTED_PAYMENT_STATE}'`)} THEN GREATEST(p.tips_amount - GREATEST(p.refunded_amount - p.paid_amount, 0), 0) ELSE 0 END)`;

/**
 * core/rules isWaiterAllowed as SQL over the order row `o` for the waiter `waiterId`: an order without a waiter, the
 * same id, or (when `waiterId` is a number in digits) an id of digits of the same value. The CASE keeps the cast
 * from ever seeing an id that is not digits (Postgres does not promise to test an AND's operands in order).
 */
export function waiterAllowedSql(waiterId: string): Prisma.Sql {
  const n = waiterNumber(waiterId);
  const byValue = n === undefined ? Prisma.empty : Prisma.sql` OR CASE WHEN o.waiter_id ~ ${NUMERIC_WAITER_ID_PATTERN} THEN o.waiter_id::int = ${n}::int ELSE false END`;
  return Prisma.sql`(o.waiter_id IS NULL OR o.waiter_id = ${waiterId}${byValue})`;
}
