import type { CommandSource } from '../commands';
import type { OrderLockState, TerminalLockNames } from './locks';
import { isHeldByAnother, isTerminalsLock } from './locks';
import { outstandingAmount } from './money';
import { isClosedStatus } from './order-status';

/**
 * Whether a payment is accepted on an order. Pure: the caller has read the
 * order (under its row lock), its lock row and any payment already recorded
 * for the same payment reference, and turns a refusal into its dialect's error.
 */

export interface PaymentAttempt {
  paymentRef: string;
  /** Minor units, >= 0. */
  amount: bigint;
  /** Minor units, >= 0. */
  tips: bigint;
  currency: string;
  /** Currency of the tips when the dialect sends it apart (else the same as currency). */
  tipsCurrency?: string;
  /** When the terminal attempted it, when the dialect states it (the Tables API's attemptedAt). */
  attemptedAt?: Date;
  /** The lock the payment was taken under, when the dialect names it. */
  lockRef?: string;
  /** Who sent the payment (paymentTakerOf reads it); absent: a card machine's. */
  source?: CommandSource;
}

/**
 * Who took a payment's money, as the payment rule reads it:
 * - `card_machine`: one of Dojo's card machines (EPOS Data, the Tables API, Connect pay at table). It is refused
 *   while the order is not payable, the venue's hold included, and must leave what the counter sales still
 *   running against the order may take (they were started against what was outstanding, and their terminal may
 *   be charging the card now): refused, Dojo reverses it, which a counter sale refused once its card is charged
 *   cannot be.
 * - `counter`: a counter sale the venue's own POS started (pay at counter). By the time it is recorded the card is
 *   charged; the POS's hold on the order (it sent `payable: false`) is its own and does not refuse it. It is still
 *   refused on a closed order or beyond what is outstanding. Its start fitted it in what was outstanding net of
 *   the other counter sales and the open payment intents.
 * - `online`: a checkout link's payment intent, captured at Dojo; its creation fitted it in what was outstanding
 *   net of the counter sales running and the other open intents.
 */
export type PaymentTaker = 'card_machine' | 'counter' | 'online';

export function paymentTakerOf(source: CommandSource | undefined): PaymentTaker {
  if (source === 'connect-pac') return 'counter';
  if (source === 'online') return 'online';
  return 'card_machine';
}

export interface OrderForPayment {
  id: string;
  status: string;
  currency: string;
  totalAmount: bigint;
  paidAmount: bigint;
  payable: boolean;
  /** The venue's hold (its POS sent `payable: false`); absent: none. */
  heldByVenue?: boolean;
}

/**
 * Whether the order is payable for a payment taken by `taker`: the order's payable flag, except that a counter
 * sale is not refused by the venue's own hold (a held order whose hold is the only reason it is not payable).
 */
export function isPayableFor(order: OrderForPayment, taker: PaymentTaker): boolean {
  if (order.payable) return true;
  return taker === 'counter' && order.heldByVenue === true && !isClosedStatus(order.status) && order.paidAmount < order.totalAmount;
}

export interface RecordedPayment {
  orderId: string;
  currency: string;
  paidAmount: bigint;
  tipsAmount: bigint;
  /** When the terminal attempted it, if its dialect said (null or absent: not stated). */
  attemptedAt?: Date | null;
}

/**
 * The lock a payment that must be taken under its terminal's lock (RecordPayment's mustHoldLock: the Tables API) was
 * taken under, or undefined when the order holds none of the terminal's:
 * - a live lock row of the terminal's (`lockRef`, or one `names` covers: isTerminalsLock, as heldLockRef reads it);
 * - an expired row only when it is exactly the payment's own lock name (`lockRef`). An order has one lock row and a
 *   new lock replaces an expired one, so an expired row of the terminal's own name means no one else has locked the
 *   order since. A missing name is not trusted here: an expired row that names no terminal may be any device's,
 *   and an expired row of a named terminal is not a payment naming none's.
 * The lifetime bounds how long a lock keeps others out, not how long its terminal may take to report a card it has
 * charged (a slow guest, a link that reconnects): the Tables API has no expiry, and decidePayment still stops an
 * overpayment. An unlocked order (no row) is still refused.
 */
export function paymentLockOf(lock: OrderLockState | null, live: boolean, lockRef: string | undefined, names: TerminalLockNames | undefined): string | undefined {
  if (!lock) return undefined;
  if (!live) return lock.lockId === lockRef ? lock.lockId : undefined;
  const own = lock.lockId === lockRef || (names !== undefined && isTerminalsLock(lock.lockId, names));
  return own ? lock.lockId : undefined;
}

/** An amount a payment may carry: a non-negative safe integer of minor units. */
export function isValidMinorAmount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * A payment already recorded for the reference is the same payment again (an idempotent replay) only with the same
 * order, amounts and currency, and, when both state when the terminal attempted it, the same time (Dojo's rule for
 * the Tables API: the same id with the same amounts and attemptedAt). A time only one of them states is not compared:
 * a payment recorded before times were kept, or through a channel that has none, is still repeated by its values.
 */
export function isSamePayment(existing: RecordedPayment, orderId: string, attempt: PaymentAttempt): boolean {
  const sameTime = !existing.attemptedAt || !attempt.attemptedAt || existing.attemptedAt.getTime() === attempt.attemptedAt.getTime();
  return sameTime && existing.orderId === orderId && existing.paidAmount === attempt.amount && existing.tipsAmount === attempt.tips && existing.currency === attempt.currency;
}

/**
 * What a card machine may still pay on an order: what is outstanding less what the counter sales still running
 * against it (or failed outcome_unknown and not resolved) may take, never below 0.
 */
export function cardMachineRoom(outstanding: bigint, openCounterSales: bigint): bigint {
  return outstanding > openCounterSales ? outstanding - openCounterSales : 0n;
}

export type PaymentDecision =
  | { kind: 'accept' }
  | { kind: 'replay' }
  /** Recorded before with other values. */
  | { kind: 'mismatch'; existing: RecordedPayment }
  | { kind: 'refuse'; reason: string };

/**
 * The rule, checked in this order: a payment already recorded for the
 * reference is a replay (same values) or a mismatch; then the order must be
 * open, payable (isPayableFor: a counter sale passes the venue's own hold), in
 * the payment's currency, not held by another live lock, and the amount at
 * most what is outstanding; a card machine's at most what is outstanding less
 * `openCounterSales`, what the counter sales still running against the order
 * (or failed outcome_unknown and not resolved) may take.
 */
export function decidePayment(
  order: OrderForPayment,
  lock: OrderLockState | null,
  existing: RecordedPayment | null,
  attempt: PaymentAttempt,
  now: Date,
  openCounterSales = 0n,
): PaymentDecision {
  if (existing) return isSamePayment(existing, order.id, attempt) ? { kind: 'replay' } : { kind: 'mismatch', existing };
  if (isClosedStatus(order.status)) return { kind: 'refuse', reason: `order ${order.id} is ${order.status}` };
  const taker = paymentTakerOf(attempt.source);
  if (!isPayableFor(order, taker)) return { kind: 'refuse', reason: `order ${order.id} is not payable (fully paid, or being edited at the venue)` };
  const tipsCurrency = attempt.tipsCurrency ?? attempt.currency;
  if (attempt.currency !== order.currency || tipsCurrency !== order.currency) {
    return { kind: 'refuse', reason: `the order is in ${order.currency} but the payment is in ${tipsCurrency !== order.currency ? tipsCurrency : attempt.currency}` };
  }
  if (attempt.lockRef !== undefined && isHeldByAnother(lock, attempt.lockRef, now)) {
    return { kind: 'refuse', reason: `order ${order.id} is locked by another lock (${lock!.lockId}), not ${attempt.lockRef}` };
  }
  const outstanding = outstandingAmount(order);
  if (attempt.amount > outstanding) {
    return {
      kind: 'refuse',
      reason: `paidAmount ${attempt.amount} is more than the ${outstanding} outstanding on order ${order.id} (total ${order.totalAmount}, paid ${order.paidAmount})`,
    };
  }
  if (taker === 'card_machine' && openCounterSales > 0n && attempt.amount > outstanding - openCounterSales) {
    const room = cardMachineRoom(outstanding, openCounterSales);
    return {
      kind: 'refuse',
      reason:
        `paidAmount ${attempt.amount} is more than the ${room} left on order ${order.id}: of the ${outstanding} outstanding, ` +
        `${openCounterSales} is being paid at a counter terminal (counter sales still running, or with an outcome the venue has not resolved)`,
    };
  }
  return { kind: 'accept' };
}
