/**
 * Pay at table by table (Connect PAT): the terminal is told one amount due for
 * a whole table and reports payments against the table, not against an order.
 * These rules say how a table-level payment becomes order payments. Pure.
 *
 * The allocation rule: a payment pays the table's payable orders oldest first
 * (the order they were opened in), each order at most what is outstanding on
 * it, so no order is ever overpaid; a payment larger than everything
 * outstanding at the table is refused as a whole (nothing is recorded). Tips
 * and cashback ride with the first part (the oldest order that receives
 * money): tips count towards that order's tips, cashback never counts towards
 * any bill. Each part is recorded as its own order payment with its own
 * reference: the payment's id for the first part, `<id>/2`, `<id>/3`, ... for
 * the next, so the payment id stays the key of its idempotency.
 */

/** A payable order of the table, in allocation order (oldest first), with what is outstanding on it. */
export interface OrderDue {
  orderId: string;
  outstanding: bigint;
}

export interface TablePayment {
  paymentRef: string;
  /** Towards the bill, minor units, >= 0. */
  amount: bigint;
  tips: bigint;
  cashback: bigint;
}

/** One order's share of a table payment. */
export interface TablePaymentPart {
  orderId: string;
  paymentRef: string;
  amount: bigint;
  tips: bigint;
  cashback: bigint;
}

export type TableAllocation = { kind: 'parts'; parts: TablePaymentPart[] } | { kind: 'refuse'; reason: string };

/** The reference of the i-th part (0-based) of a table payment. */
export function tablePaymentPartRef(paymentRef: string, index: number): string {
  return index === 0 ? paymentRef : `${paymentRef}/${index + 1}`;
}

/** Whether a stored payment reference is a part of the table payment `paymentRef`. */
export function isTablePaymentPart(storedRef: string, paymentRef: string): boolean {
  return storedRef === paymentRef || (storedRef.startsWith(`${paymentRef}/`) && /^\d+$/.test(storedRef.slice(paymentRef.length + 1)));
}

/** What is due at a table: the sum of what is outstanding on its payable orders. */
export function tableAmountDue(orders: readonly OrderDue[]): bigint {
  return orders.reduce((sum, o) => sum + (o.outstanding > 0n ? o.outstanding : 0n), 0n);
}

/** Splits a table payment over the table's orders by the rule above. `orders` must be oldest first. */
export function allocateTablePayment(orders: readonly OrderDue[], payment: TablePayment): TableAllocation {
  const open = orders.filter((o) => o.outstanding > 0n);
  const due = tableAmountDue(open);
  if (open.length === 0) return { kind: 'refuse', reason: 'nothing is outstanding at the table' };
  if (payment.amount > due) {
    return { kind: 'refuse', reason: `payment ${payment.paymentRef} of ${payment.amount} is more than the ${due} outstanding at the table` };
  }
  const parts: TablePaymentPart[] = [];
  let left = payment.amount;
  for (const o of open) {
    if (parts.length > 0 && left === 0n) break;
    const share = left < o.outstanding ? left : o.outstanding;
    left -= share;
    const first = parts.length === 0;
    parts.push({
      orderId: o.orderId,
      paymentRef: tablePaymentPartRef(payment.paymentRef, parts.length),
      amount: share,
      tips: first ? payment.tips : 0n,
      cashback: first ? payment.cashback : 0n,
    });
  }
  return { kind: 'parts', parts };
}
