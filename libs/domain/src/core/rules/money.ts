import { isClosedStatus } from './order-status';

/**
 * Money rules of an order, in integer minor units (bigint). An order's paid
 * and tips amounts are the sums over its payments in state Recorded (a
 * Reversed, Refunded or Canceled payment counts for nothing); what is
 * outstanding is total - paid; an order is payable while it is open and
 * something is outstanding.
 */

/** The payment states that count towards an order's paid and tips amounts. */
export const COUNTED_PAYMENT_STATE = 'Recorded';

export interface PaymentAmounts {
  state: string;
  paidAmount: bigint;
  tipsAmount: bigint;
}

/** paid and tips of an order: the sums over its counted (Recorded) payments. */
export function paidTotals(payments: readonly PaymentAmounts[]): { paid: bigint; tips: bigint } {
  let paid = 0n;
  let tips = 0n;
  for (const p of payments) {
    if (p.state !== COUNTED_PAYMENT_STATE) continue;
    paid += p.paidAmount;
    tips += p.tipsAmount;
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
