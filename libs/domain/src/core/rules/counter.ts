/**
 * Pay at counter: the pure rules of a counter transaction (states in
 * @app/contracts counter.ts). No database, no transport.
 */
import type { CounterFailure, CounterKind, CounterOutcome, CounterResolution, CounterState } from '@app/contracts';
import { ConnectPac, COUNTER_OPEN_STATES } from '@app/contracts';
import { COUNTED_PAYMENT_STATE, isPayable, outstandingAmount } from './money';

type PacTransaction = ConnectPac.PacTransaction;

/** A `duplicate` may report a transaction that ran a little before we marked ours sent (clocks of the terminal and Postgres). */
export const RECOVER_CLOCK_SLACK_MS = 5_000;

/** The transaction as the recovery rule reads it. */
export interface CounterRequestFacts {
  kind: CounterKind;
  amount: bigint | null;
  sentAt: Date | null;
}

const TYPE_OF_KIND: Record<Exclude<CounterKind, 'duplicate'>, PacTransaction['transactionType']> = { sale: 'SALE', refund: 'REFUND' };

/** The UK's offset from UTC (ms) at instant `at`: 0 in winter, an hour in summer (Connect's wall clock, read back). */
function londonOffsetMs(at: number): number {
  return Date.parse(`${ConnectPac.connectTimeOf(new Date(at))}Z`) - Math.floor(at / 1000) * 1000;
}

/**
 * A terminal's transactionTime as an instant (ms), or undefined when unreadable. Connect's own format
 * (`YYYY-MM-DDThh:mm:ss`, REST v2) carries no offset: it is the terminal's wall-clock time, UK time (Ireland's is the
 * same). Of the two instants an hour that repeats when the clocks go back could be, the later is taken. A time with
 * an offset or Z is taken as it says.
 */
export function terminalTimeMs(transactionTime: string): number | undefined {
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(transactionTime)) {
    const at = Date.parse(transactionTime);
    return Number.isFinite(at) ? at : undefined;
  }
  const wall = Date.parse(`${transactionTime}Z`); // the wall-clock fields, read as if UTC
  if (!Number.isFinite(wall)) return undefined;
  // The offset in force at that wall time: try both the offset an hour either side gives, keep those that read back.
  const fits = [wall - londonOffsetMs(wall - 3_600_000), wall - londonOffsetMs(wall + 3_600_000)].filter((at) => at + londonOffsetMs(at) === wall);
  // None: a wall time the clocks skip when they go forward; read it with the winter offset.
  return fits.length ? Math.max(...fits) : wall;
}

/**
 * Whether the terminal's last transaction (read with `duplicate` while
 * recovering) is the one we sent. One that ran more than RECOVER_CLOCK_SLACK_MS
 * before we sent ours is `other`: it is the terminal's last, so ours never ran.
 * One run since is `match` with the same type (a duplicate request matches any)
 * and base amount, else `later`: another transaction ran after ours was sent
 * (the terminal used on its own, or by another EPOS), so ours may have run
 * before it. A transaction without a readable time (or a request never marked
 * sent) cannot be placed before or after ours: `no_time`.
 */
export function recoveredMatch(req: CounterRequestFacts, t: PacTransaction): 'match' | 'other' | 'later' | 'no_time' {
  const ran = t.transactionTime === undefined ? undefined : terminalTimeMs(t.transactionTime);
  if (!req.sentAt || ran === undefined) return 'no_time';
  if (ran < req.sentAt.getTime() - RECOVER_CLOCK_SLACK_MS) return 'other';
  if (req.kind === 'duplicate') return 'match';
  const same = t.transactionType === TYPE_OF_KIND[req.kind] && req.amount !== null && t.amountBase !== undefined && BigInt(t.amountBase) === req.amount;
  return same ? 'match' : 'later';
}

/** What settling an outcome does to a transaction. */
export type CounterSettlement =
  | { state: 'finished'; result: PacTransaction['transactionResult']; transaction: PacTransaction }
  | { state: 'failed'; failure: CounterFailure; message: string; raw?: unknown };

/**
 * The settlement of `outcome` for a transaction still open (see isCounterOpen). `claimedBy`: another transaction of
 * the terminal already settled with the recovered transaction (CounterRepository.settledWith), which then is not this
 * one's: a sale that never reached the terminal is not taken for the one before it.
 */
export function counterSettlementOf(req: CounterRequestFacts, outcome: CounterOutcome, claimedBy?: string): CounterSettlement {
  switch (outcome.kind) {
    case 'transaction':
      return { state: 'finished', result: outcome.transaction.transactionResult, transaction: outcome.transaction };
    case 'recovered': {
      if (!outcome.transaction) return { state: 'failed', failure: 'not_executed', message: 'the terminal reports no transaction: it never ran' };
      const match = recoveredMatch(req, outcome.transaction);
      // Another transaction of the terminal finished with it, so this one was sent after it ended: had this one run,
      // it would be the terminal's last.
      if ((match === 'match' || match === 'later') && claimedBy !== undefined) {
        return {
          state: 'failed',
          failure: 'not_executed',
          message: `the terminal's last transaction is the one counter transaction ${claimedBy} finished with: this one never ran`,
          raw: outcome.transaction,
        };
      }
      if (match === 'other') {
        return { state: 'failed', failure: 'not_executed', message: "the terminal's last transaction ran before this one was sent: this one never ran", raw: outcome.transaction };
      }
      if (match === 'later') {
        return {
          state: 'failed',
          failure: 'outcome_unknown',
          message: "the terminal ran another transaction after this one was sent, so its last transaction does not tell whether this one ran: check the terminal's receipts, then resolve it (it holds its amount until then)",
          raw: outcome.transaction,
        };
      }
      if (match === 'no_time') {
        return {
          state: 'failed',
          failure: 'outcome_unknown',
          message: "the terminal's last transaction carries no time, so it cannot be told from an older one: check the terminal's receipts, then resolve it (it holds its amount until then)",
          raw: outcome.transaction,
        };
      }
      return { state: 'finished', result: outcome.transaction.transactionResult, transaction: outcome.transaction };
    }
    case 'unknown':
      return { state: 'failed', failure: 'outcome_unknown', message: `the outcome could not be read back from the terminal (${outcome.reason}): check the terminal's receipts, then resolve it (it holds its amount until then)` };
    case 'refused':
      return { state: 'failed', failure: 'refused', message: `Connect refused the request (${outcome.code}): ${outcome.message}` };
    case 'unreadable':
      // What decides money could not be read: the card may have been charged, so it holds like an unknown outcome.
      return {
        state: 'failed',
        failure: 'outcome_unknown',
        message: `Connect's answer could not be read (${outcome.problem}): check the terminal's receipts, then resolve it (it holds its amount until then)`,
        raw: outcome.raw,
      };
  }
}

/** Whether the transaction may still change (not finished or failed). */
export function isCounterOpen(state: string): state is CounterState {
  return (COUNTER_OPEN_STATES as readonly string[]).includes(state);
}

/** Whether a settled refund is to be applied to the payment of the sale it names: a SUCCESSFUL refund of a sale. */
export function appliesRefund(kind: CounterKind, refundOf: string | null, s: CounterSettlement): s is Extract<CounterSettlement, { state: 'finished' }> {
  return kind === 'refund' && refundOf !== null && s.state === 'finished' && s.result === 'SUCCESSFUL';
}

/**
 * Whether a counter refund of `amount` may be started against an earlier
 * counter sale: the sale ran (SUCCESSFUL) and was recorded on its order, its
 * payment still counts (not undone or refunded in full), the refund is in
 * the sale's currency, and it fits in what is left to refund of the payment
 * (what was taken, tips included, less what was refunded and what the refunds
 * still running against it may take). Cashback was handed out in cash and is
 * not refunded.
 */
export function counterRefundRefusal(
  sale: { id: string; kind: string; state: string; result: string | null; resolution: CounterResolution | null; paymentId: string | null; currency: string },
  payment: { state: string; paidAmount: bigint; tipsAmount: bigint; refundedAmount: bigint } | null,
  openRefunds: bigint,
  amount: bigint,
  currency: string,
): string | undefined {
  if (sale.kind !== 'sale') return `counter transaction ${sale.id} is a ${sale.kind}, not a sale`;
  if (!tookMoney(sale)) return `counter sale ${sale.id} did not take money (${sale.result ?? sale.resolution ?? sale.state})`;
  if (sale.paymentId === null || payment === null) return `counter sale ${sale.id} was not recorded on an order: refund it without refundOf`;
  if (payment.state !== COUNTED_PAYMENT_STATE) return `the payment of counter sale ${sale.id} is ${payment.state}`;
  if (currency !== sale.currency) return `counter sale ${sale.id} is in ${sale.currency}, not ${currency}`;
  const left = payment.paidAmount + payment.tipsAmount - payment.refundedAmount - openRefunds;
  if (amount > left) return `counter sale ${sale.id} has ${left > 0n ? left : 0n} ${sale.currency} left to refund${openRefunds > 0n ? ` (${openRefunds} is in refunds still running)` : ''}; ${amount} is more`;
  return undefined;
}

/** Whether a transaction ran with money: finished SUCCESSFUL, or an unknown outcome the venue resolved as charged. */
export function tookMoney(t: { state: string; result: string | null; resolution: CounterResolution | null }): boolean {
  return (t.state === 'finished' && t.result === 'SUCCESSFUL') || t.resolution === 'charged';
}

/**
 * What the venue's resolution of a transaction does: only a failed `outcome_unknown` one may be resolved, once; the
 * same resolution again answers as before; another one is refused.
 */
export function resolutionOf(
  t: { id: string; state: string; failure: CounterFailure | null; resolution: CounterResolution | null },
  asked: CounterResolution,
): { do: 'resolve' | 'already' } | { do: 'refuse'; error: 'not_resolvable' | 'already_resolved'; message: string } {
  if (t.state !== 'failed' || t.failure !== 'outcome_unknown') {
    return { do: 'refuse', error: 'not_resolvable', message: `counter transaction ${t.id} is ${t.failure ?? t.state}: only an outcome_unknown one is resolved by the venue` };
  }
  if (t.resolution === null) return { do: 'resolve' };
  if (t.resolution === asked) return { do: 'already' };
  return { do: 'refuse', error: 'already_resolved', message: `counter transaction ${t.id} was resolved as ${t.resolution}` };
}

/** Whether a settled sale is to be recorded as a payment on its order: a SUCCESSFUL sale against an order. */
export function recordsPayment(kind: CounterKind, orderId: string | null, s: CounterSettlement): s is Extract<CounterSettlement, { state: 'finished' }> {
  return kind === 'sale' && orderId !== null && s.state === 'finished' && s.result === 'SUCCESSFUL';
}

/**
 * What the POS's cancel does: an accepted one fails at once, a sent one asks the terminal, a recovering one stops
 * being recovered (`give_up`: failed outcome_unknown, holding its amount until the venue resolves it; the terminal
 * may have run it), anything else cannot be cancelled.
 */
export function cancelOf(state: CounterState): 'fail' | 'request' | 'give_up' | 'already' | 'refuse' {
  if (state === 'accepted') return 'fail';
  if (state === 'sent') return 'request';
  if (state === 'recovering') return 'give_up';
  if (state === 'cancel_requested') return 'already';
  return 'refuse';
}

/**
 * Whether a counter sale of `amount` may be started against an order: the
 * order is payable, in the same currency, and the sale fits in what is
 * outstanding once the other counter sales still open against it and its
 * open payment intents (`openIntents`: a checkout link out) are counted (so
 * two terminals, or a terminal and a checkout link, never both charge the
 * whole bill).
 */
export function counterSaleRefusal(
  order: { id: string; status: string; totalAmount: bigint; paidAmount: bigint; currency: string },
  openSales: bigint,
  amount: bigint,
  currency: string,
  openIntents = 0n,
): string | undefined {
  if (!isPayable(order)) return `order ${order.id} is not payable (status ${order.status}, paid ${order.paidAmount} of ${order.totalAmount})`;
  if (order.currency !== currency) return `order ${order.id} is in ${order.currency}, not ${currency}`;
  const room = outstandingAmount(order) - openSales - openIntents;
  if (amount > room) {
    const held = [openSales > 0n ? `${openSales} is in counter sales still running or not resolved` : undefined, openIntents > 0n ? `${openIntents} in open payment intents` : undefined].filter(Boolean);
    return `order ${order.id} has ${room > 0n ? room : 0n} ${order.currency} left to pay${held.length ? ` (${held.join(', ')})` : ''}; ${amount} is more`;
  }
  return undefined;
}
