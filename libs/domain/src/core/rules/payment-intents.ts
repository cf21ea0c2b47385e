import { outstandingAmount } from './money';
import { isClosedStatus } from './order-status';
import type { OrderForPayment } from './payments';

/**
 * Online payment intents (issue 14): how much a new intent may ask for, what
 * each Dojo status does to the order, when the reconciler looks again, and
 * the checkout link. Pure.
 */

/** Dojo's PaymentIntentStatus values, lowest to highest rank (statuses only move forward). */
export const INTENT_STATUS_RANK: Readonly<Record<string, number>> = {
  Creating: -1,
  Created: 0,
  Authorized: 1,
  Captured: 2,
  Reversed: 3,
  Refunded: 3,
  Canceled: 3,
};

/** No further status will come: the reconciler stops looking. */
export function isFinalIntentStatus(status: string): boolean {
  return status === 'Reversed' || status === 'Refunded' || status === 'Canceled';
}

/** Whether `next` moves the intent forward from `current` (unknown statuses never do). */
export function intentStatusAdvances(current: string, next: string): boolean {
  const rn = INTENT_STATUS_RANK[next];
  const rc = INTENT_STATUS_RANK[current];
  if (rn === undefined) return false;
  if (rc === undefined) return true;
  return rn > rc;
}

/**
 * What a status Dojo reports does to the order's payment for the intent:
 * - `record`: the money is taken (Captured; or Refunded, which implies a capture
 *   before it), so the payment is recorded through RecordPayment if it is not yet;
 * - `none`: nothing is taken yet (Created, Authorized) or nothing ever was
 *   (Reversed or Canceled before any capture).
 * The undo of a recorded payment (Reversed, Refunded, Canceled) is the events
 * pipeline's rule (isUndoStatus), applied once the payment exists; a capture
 * recorded after its intent was undone is undone at once (paymentStatusToApply).
 */
export function settlementOf(status: string, paymentRecorded: boolean): 'record' | 'none' {
  if (paymentRecorded) return 'none';
  return status === 'Captured' || status === 'Refunded' ? 'record' : 'none';
}

/**
 * The status an event applies to an online intent's recorded payment:
 * `eventStatus` (the event's, undefined when it does not outrank the
 * payment's), unless the intent's own row is already at a final status
 * (Reversed, Refunded, Canceled) that the payment does not show
 * (`paymentStatus`, the payment's intent status). That happens when the undo
 * was applied before the payment existed, so it had nothing to undo: a
 * Captured event reads Dojo before its transaction, and a Reversed that
 * followed it may commit first. The late capture then records the payment
 * and the intent's status undoes it at once, as the two events in order
 * would have; otherwise the order would count money Dojo released. A final
 * status the payment already shows is left to the event (statuses only move
 * forward).
 */
export function paymentStatusToApply(eventStatus: string | undefined, intentStatus: string, paymentStatus: string | null): string | undefined {
  const paymentFinal = paymentStatus !== null && isFinalIntentStatus(paymentStatus);
  return isFinalIntentStatus(intentStatus) && !paymentFinal ? intentStatus : eventStatus;
}

/** What the capture rules read of an intent (minor units). */
export interface IntentForCapture {
  /** What the intent asks for (without tips). */
  amount: bigint;
  /** What Dojo reported captured of it (dojoCapturedAmount), null while not known. */
  capturedAmount: bigint | null;
}

/**
 * What was captured of an online intent, without tips: a capture may take
 * part of it (Dojo's CreateCaptureRequest amount). What Dojo reported
 * (`intent.capturedAmount`) first; else what the venue API's captures took
 * (`capturedByOperations`, the sum of payment_intent_operations of kind
 * capture, 0 when none); else the whole intent (a checkout's Auto capture).
 * Never more than the intent's amount.
 */
export function capturedAmountOf(intent: IntentForCapture, capturedByOperations: bigint): bigint {
  const known = intent.capturedAmount !== null && intent.capturedAmount > 0n ? intent.capturedAmount : capturedByOperations > 0n ? capturedByOperations : intent.amount;
  return known < intent.amount ? known : intent.amount;
}

/**
 * What Dojo's PaymentIntent says was captured, without tips: the sum of the
 * `amount` of its `captures` (CaptureDetails) whose status is Successful, in
 * minor units. Null when the answer has no `captures` list or no successful
 * capture in it (nothing known: the caller falls back, capturedAmountOf).
 */
export function dojoCapturedAmount(captures: unknown): bigint | null {
  if (!Array.isArray(captures)) return null;
  let sum = 0n;
  for (const c of captures as unknown[]) {
    if (typeof c !== 'object' || c === null) continue;
    const { amount, status } = c as { amount?: unknown; status?: unknown };
    if (status === 'Successful' && typeof amount === 'number' && Number.isSafeInteger(amount) && amount > 0) sum += BigInt(amount);
  }
  return sum > 0n ? sum : null;
}

/** What the intent rules read of an order: the same fields as the payment rules. */
export type OrderForIntent = OrderForPayment;

export type IntentAmountDecision = { kind: 'accept'; amount: bigint } | { kind: 'refuse'; reason: string } | { kind: 'invalid'; reason: string };

/**
 * The amount of a new intent for an order: what is outstanding and not yet
 * asked for by the order's open intents (`openAmount`) or by the counter sales
 * still running against it (`openCounterSales`: a guest paying at the counter
 * while a checkout link is out must not leave both able to take the whole
 * bill), or `requested` when given (a part, e.g. one guest's share), which
 * must be > 0 and fit in it.
 */
export function decideIntentAmount(order: OrderForIntent, openAmount: bigint, requested: bigint | undefined, openCounterSales = 0n): IntentAmountDecision {
  if (requested !== undefined && requested <= 0n) return { kind: 'invalid', reason: 'amount must be a positive integer of minor units' };
  if (isClosedStatus(order.status)) return { kind: 'refuse', reason: `order ${order.id} is ${order.status}` };
  if (!order.payable) return { kind: 'refuse', reason: `order ${order.id} is not payable (fully paid, or being edited at the venue)` };
  const outstanding = outstandingAmount(order);
  const free = outstanding - openAmount - openCounterSales;
  if (free <= 0n) {
    const by = openCounterSales > 0n ? (openAmount > 0n ? 'open payment intents and counter sales still running' : 'counter sales still running') : 'open payment intents';
    return { kind: 'refuse', reason: `${by} already cover the ${outstanding} outstanding on order ${order.id}` };
  }
  if (requested === undefined) return { kind: 'accept', amount: free };
  if (requested > free) {
    const counter = openCounterSales > 0n ? `, ${openCounterSales} in counter sales still running` : '';
    return {
      kind: 'refuse',
      reason: `amount ${requested} is more than the ${free} left on order ${order.id} (outstanding ${outstanding}, ${openAmount} in open intents${counter})`,
    };
  }
  return { kind: 'accept', amount: requested };
}

/**
 * The reconciler's delay before its next read of an intent still open:
 * `baseMs` doubled per read that found nothing new, at most `maxMs`.
 */
export function nextCheckDelayMs(checkAttempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, checkAttempts)));
}

/** The prebuilt checkout page of an intent: `<base>/<id>` (Dojo: https://pay.dojo.tech/checkout). */
export function checkoutUrl(checkoutBase: string, paymentIntentId: string): string {
  return `${checkoutBase.replace(/\/+$/, '')}/${encodeURIComponent(paymentIntentId)}`;
}
