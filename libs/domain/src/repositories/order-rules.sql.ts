/**
 * The rules of core/rules that SQL must express, generated from the same
 * constants (one definition). Used by the orders repository only.
 */
import { Prisma } from '@app/db';
import { CLOSED_ORDER_STATUSES } from '../core/rules';

/**
 * The closed statuses as an SQL list, generated from the one definition
 * (core/rules/order-status.ts): `'Canceled', 'Finalized', 'Failed'`.
 */
export const CLOSED_STATUSES_SQL = Prisma.raw(CLOSED_ORDER_STATUSES.map((s) => `'${s}'`).join(', '));

/** core/rules isPayable as an SQL expression over the order row `o` and a paid amount. */
export function payableSql(paid: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(${paid} < o.total_amount AND o.status NOT IN (${CLOSED_STATUSES_SQL}))`;
}
