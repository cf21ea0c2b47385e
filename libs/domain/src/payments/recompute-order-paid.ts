import type { Tx } from '../shared/tx';

/**
 * OWNED BY the capability workers. Recomputes an order's paidAmount/tipsAmount
 * from its payments in state Recorded and sets payable accordingly (payable
 * while paid < total and the order is not Canceled/Finalized/Failed).
 * The caller holds the order row lock (SELECT ... FOR UPDATE) in `tx`.
 * Bumps the order's version when anything changed.
 */
export async function recomputeOrderPaid(tx: Tx, locationId: string, orderId: string): Promise<void> {
  await tx.$executeRaw`
    UPDATE orders o
       SET paid_amount = s.paid,
           tips_amount = s.tips,
           payable = (s.paid < o.total_amount AND o.status NOT IN ('Canceled', 'Finalized', 'Failed')),
           version = o.version + 1,
           updated_at = now()
      FROM (SELECT COALESCE(SUM(paid_amount), 0)::bigint AS paid, COALESCE(SUM(tips_amount), 0)::bigint AS tips
              FROM payments
             WHERE location_id = ${locationId}::uuid AND order_id = ${orderId} AND state = 'Recorded') s
     WHERE o.location_id = ${locationId}::uuid AND o.id = ${orderId}
       AND (o.paid_amount IS DISTINCT FROM s.paid OR o.tips_amount IS DISTINCT FROM s.tips
            OR o.payable IS DISTINCT FROM (s.paid < o.total_amount AND o.status NOT IN ('Canceled', 'Finalized', 'Failed')))`;
}
