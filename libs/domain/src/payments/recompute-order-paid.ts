import { Prisma } from '@app/db';
import { CLOSED_ORDER_STATUSES, COUNTED_PAYMENT_STATE } from '../core/rules';
import type { Tx } from '../shared/tx';

/**
 * The closed statuses as an SQL list, generated from the one definition
 * (core/rules/order-status.ts): `'Canceled', 'Finalized', 'Failed'`.
 */
export const CLOSED_STATUSES_SQL = Prisma.raw(CLOSED_ORDER_STATUSES.map((s) => `'${s}'`).join(', '));

/** core/rules isPayable as an SQL expression over the order row `o` and a paid amount. */
export function payableSql(paid: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(${paid} < o.total_amount AND o.status NOT IN (${CLOSED_STATUSES_SQL}))`;
}

/**
 * Recomputes an order's paidAmount/tipsAmount from its counted payments
 * (core/rules paidTotals) and sets payable accordingly (core/rules isPayable).
 * The caller holds the order row lock (SELECT ... FOR UPDATE) in `tx`.
 * Bumps the order's version when anything changed.
 */
export async function recomputeOrderPaid(tx: Tx, locationId: string, orderId: string): Promise<void> {
  await tx.$executeRaw`
    UPDATE orders o
       SET paid_amount = s.paid,
           tips_amount = s.tips,
           payable = ${payableSql(Prisma.sql`s.paid`)},
           version = o.version + 1,
           updated_at = now()
      FROM (SELECT COALESCE(SUM(paid_amount), 0)::bigint AS paid, COALESCE(SUM(tips_amount), 0)::bigint AS tips
              FROM payments
             WHERE location_id = ${locationId}::uuid AND order_id = ${orderId} AND state = ${COUNTED_PAYMENT_STATE}::"PaymentState") s
     WHERE o.location_id = ${locationId}::uuid AND o.id = ${orderId}
       AND (o.paid_amount IS DISTINCT FROM s.paid OR o.tips_amount IS DISTINCT FROM s.tips
            OR o.payable IS DISTINCT FROM ${payableSql(Prisma.sql`s.paid`)})`;
}
