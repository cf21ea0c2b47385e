import { DomainRefusal } from '../refusal';
import { isClosedStatus } from './order-status';
import type { OrderDraft, PlacedPayment, StatedAmount } from '../commands';

/**
 * The rules of a new order's amounts: a total is given, every amount is in the
 * total's currency (one currency per order), and the total is a non-negative
 * integer in minor units. Line amounts may be negative (a discount line).
 */

/** An order draft's amounts once checked: the order's currency and its totals in minor units. */
export interface CheckedOrderAmounts {
  currency: string;
  totalAmount: bigint;
  serviceChargeAmount: bigint | null;
}

/**
 * At most this many items in an order. An order's items are written in one statement with a parameter per column
 * (ten per item), and Postgres takes at most 65,535 parameters: past about 6,500 items the write would fail. No
 * venue's order comes near a thousand lines; sub-items and modifiers are kept as JSON inside their item, bounded
 * only by the edges' limit on a request's values (50,000).
 */
export const MAX_ORDER_ITEMS = 1_000;

/** Checks a draft's item count and amounts; throws the refusal of the first problem found. */
export function checkOrderDraft(draft: OrderDraft): CheckedOrderAmounts {
  if (draft.lines.length > MAX_ORDER_ITEMS) {
    throw DomainRefusal.invalid(`items has ${draft.lines.length} items; an order has at most ${MAX_ORDER_ITEMS}`, 'items');
  }
  const total = draft.totalAmount;
  if (!total) throw DomainRefusal.invalid('totalAmount is required', 'totalAmount');
  const currency = total.currency;
  const sameCurrency = (m: StatedAmount | undefined, field: string) => {
    if (m && m.currency !== currency) {
      throw DomainRefusal.invalid(`${field} is in ${m.currency} but totalAmount is in ${currency}; use one currency per order`, field);
    }
  };
  sameCurrency(draft.serviceChargeAmount, 'serviceChargeAmount');
  draft.lines.forEach((line, i) => sameCurrency(line.amountPerItem, `items[${i}].amountPerItem`));
  if (!Number.isSafeInteger(total.value) || total.value < 0) {
    throw DomainRefusal.invalid('totalAmount.value must be a non-negative integer in minor units', 'totalAmount');
  }
  return {
    currency,
    totalAmount: BigInt(total.value),
    serviceChargeAmount: draft.serviceChargeAmount ? BigInt(draft.serviceChargeAmount.value) : null,
  };
}

/** The refusal of a payment that came with a placed order (the i-th), if any: in the order's currency, never negative. */
export function placedPaymentRefusal(p: PlacedPayment, i: number, currency: string): DomainRefusal | undefined {
  if (p.amount.currency !== currency || (p.tips && p.tips.currency !== currency)) {
    return DomainRefusal.invalid(`payments[${i}] is not in the order's currency ${currency}`);
  }
  if (p.amount.value < 0 || (p.tips?.value ?? 0) < 0) return DomainRefusal.invalid(`payments[${i}] has a negative amount`);
  return undefined;
}

/** What records money against an order: its payments (any state), its payment intents (any status) and what the counter sales still running against it may take. */
export interface OrderMoneyRecords {
  payments: number;
  paymentIntents: number;
  openCounterSaleAmount: bigint;
}

/**
 * Why the venue may not delete an order, if it may not. An order with money
 * recorded against it is kept: deleting it would take its payments and payment
 * intents with it (they belong to the order), and Dojo's later events for them
 * would find nothing to apply to, while a checkout link or a counter sale still
 * running could take money for an order that no longer exists. Such an order
 * is closed instead (status Finalized or Canceled), which keeps the records.
 */
export function orderDeletionRefusal(orderId: string, r: OrderMoneyRecords): string | undefined {
  const list = moneyRecordsText(r);
  if (list === undefined) return undefined;
  return `order ${JSON.stringify(orderId)} cannot be deleted: it has ${list}, kept with it; close it instead (PUT with status Finalized or Canceled)`;
}

/**
 * Why a replace may not move an order to another currency, if it may not: its payments, payment intents and
 * running counter sales are in the currency it has, and its paid amount and what is left to pay would mix the two.
 */
export function orderCurrencyChangeRefusal(orderId: string, from: string, to: string, r: OrderMoneyRecords): string | undefined {
  if (from === to) return undefined;
  const list = moneyRecordsText(r);
  if (list === undefined) return undefined;
  return `order ${JSON.stringify(orderId)} is in ${from} and has ${list} in it, so it cannot change to ${to}`;
}

/** What may still be paid on an order by what is in flight: its open payment intents (a checkout link out) and the counter sales that still hold. */
export interface OrderMoneyInFlight {
  openIntentAmount: bigint;
  openCounterSaleAmount: bigint;
}

/** The least total a replace may lower an order to: what is paid plus what is in flight. */
export function leastOrderTotal(paidAmount: bigint, inFlight: OrderMoneyInFlight): bigint {
  return paidAmount + inFlight.openIntentAmount + inFlight.openCounterSaleAmount;
}

/**
 * Why a replace may not lower an order's total from `current.totalAmount` to `total`, if it may not: below what is
 * paid the order would be overpaid (outstanding below 0), and below what is paid plus what is in flight a checkout
 * link or a counter sale that takes what it was started for would find the order unable to take it, after the card
 * was charged. A replace that keeps or raises the total is never refused (whatever the order was before).
 */
export function orderTotalRefusal(orderId: string, total: bigint, current: { totalAmount: bigint; paidAmount: bigint }, inFlight: OrderMoneyInFlight): string | undefined {
  if (total >= current.totalAmount) return undefined;
  const least = leastOrderTotal(current.paidAmount, inFlight);
  if (total >= least) return undefined;
  const held = inFlightTexts(inFlight);
  const what = held.length ? `${current.paidAmount} paid and ${held.join(' and ')}` : `${current.paidAmount} paid`;
  const fix = held.length ? '; refund or cancel first, or wait for them to end' : '; refund first';
  return `order ${JSON.stringify(orderId)} has ${what}: its totalAmount cannot go below ${least} (asked ${total})${fix}`;
}

/**
 * Why a replace may not close an open order (status Finalized, Canceled or Failed), if it may not: an open payment
 * intent (a checkout link out) or a counter sale still running may take money for it, and a closed order refuses
 * that payment after the card was charged (the money then waits on the intent as a note, to be refunded). Closing an
 * order with nothing in flight, or replacing one already closed, is never refused.
 */
export function orderCloseRefusal(orderId: string, from: string, to: string, inFlight: OrderMoneyInFlight): string | undefined {
  if (!isClosedStatus(to) || isClosedStatus(from)) return undefined;
  const held = inFlightTexts(inFlight);
  if (held.length === 0) return undefined;
  return `order ${JSON.stringify(orderId)} has ${held.join(' and ')}: it cannot be ${to} while they may still take money; cancel them first, or wait for them to end`;
}

/** "500 in open payment intents", "300 in counter sales still running or not resolved": what is in flight, if anything. */
function inFlightTexts(inFlight: OrderMoneyInFlight): string[] {
  return [
    inFlight.openIntentAmount > 0n ? `${inFlight.openIntentAmount} in open payment intents` : undefined,
    inFlight.openCounterSaleAmount > 0n ? `${inFlight.openCounterSaleAmount} in counter sales still running or not resolved` : undefined,
  ].filter((h): h is string => h !== undefined);
}

/** "1 payment, 2 payment intents and a counter sale still running"; undefined when there is nothing. */
function moneyRecordsText(r: OrderMoneyRecords): string | undefined {
  const what = [
    r.payments > 0 ? `${r.payments} payment${r.payments === 1 ? '' : 's'}` : undefined,
    r.paymentIntents > 0 ? `${r.paymentIntents} payment intent${r.paymentIntents === 1 ? '' : 's'}` : undefined,
    r.openCounterSaleAmount > 0n ? 'a counter sale still running or not resolved' : undefined,
  ].filter((w): w is string => w !== undefined);
  if (what.length === 0) return undefined;
  return what.length === 1 ? what[0] : `${what.slice(0, -1).join(', ')} and ${what[what.length - 1]}`;
}
