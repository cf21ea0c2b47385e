import { isClosedStatus } from './order-status';

/**
 * Money rules of an order, in integer minor units (bigint). An order's paid
 * and tips amounts are the sums over its payments in state Recorded (a
 * Reversed, Refunded or Canceled payment counts for nothing), each net of what
 * was refunded of it (countedAmounts); what is outstanding is total - paid; an
 * order is payable while it is open and something is outstanding.
 */

/** The payment states that count towards an order's paid and tips amounts. */
export const COUNTED_PAYMENT_STATE = 'Recorded';

export interface PaymentAmounts {
  state: string;
  paidAmount: bigint;
  tipsAmount: bigint;
  /** What was refunded of the payment so far (cumulative, as Dojo's refundedAmount); absent: nothing. */
  refundedAmount?: bigint;
}

/**
 * What one payment counts towards its order: nothing unless it is Recorded;
 * else its paid and tips amounts net of what was refunded of it. A refund
 * (Dojo refunds an intent's total, amount + tips) comes off the paid amount
 * first and off the tips only for what exceeds it, so paid + tips always
 * drops by exactly the refunded amount. repositories/order-rules.sql.ts
 * countedPaidSql/countedTipsSql say the same in SQL.
 */
export function countedAmounts(p: PaymentAmounts): { paid: bigint; tips: bigint } {
  if (p.state !== COUNTED_PAYMENT_STATE) return { paid: 0n, tips: 0n };
  const refunded = p.refundedAmount ?? 0n;
  const paid = p.paidAmount > refunded ? p.paidAmount - refunded : 0n;
  const fromTips = refunded > p.paidAmount ? refunded - p.paidAmount : 0n;
  const tips = p.tipsAmount > fromTips ? p.tipsAmount - fromTips : 0n;
  return { paid, tips };
}

/**
 * Whether a refund of `refunded` (cumulative) undoes the whole payment: it
 * reaches the payment's total (paid + tips). Then the payment's state becomes
 * Refunded, as an undo status makes it; a smaller refund keeps it Recorded and
 * counted net (countedAmounts).
 */
export function isFullRefund(p: { paidAmount: bigint; tipsAmount: bigint }, refunded: bigint): boolean {
  return refunded >= p.paidAmount + p.tipsAmount;
}

/** paid and tips of an order: the sums over its payments' counted amounts (countedAmounts). */
export function paidTotals(payments: readonly PaymentAmounts[]): { paid: bigint; tips: bigint } {
  let paid = 0n;
  let tips = 0n;
  for (const p of payments) {
    const c = countedAmounts(p);
    paid += c.paid;
    tips += c.tips;
  }
  return { paid, tips };
}

/** What is left to pay (negative when overpaid, which the payment rules never allow). */
export function outstandingAmount(order: { totalAmount: bigint; paidAmount: bigint }): bigint {
  return order.totalAmount - order.paidAmount;
}

/** Payable: the order is open (not a closed status) and paid < total. */
export function isPayable(order: { status: string; totalAmount: bigint; paidAmount: bigint }): boolean {
  return order.paidAmount < order.totalAmount && !isClosedStatus(order.status);
}

/** An ISO 4217 currency code as the platform takes it: three capital letters (GBP, EUR). */
export function isCurrencyCode(code: unknown): boolean {
  return typeof code === 'string' && /^[A-Z]{3}$/.test(code);
}
