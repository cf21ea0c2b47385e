import type { Logger } from '@app/common';
import type { Prisma } from '@app/db';
import type { PaymentIntentStatus} from '@app/contracts';
import { isUndoStatus, STATUS_RANK } from '@app/contracts';
import type { RecordPayment } from '../core/commands';
import { DomainRefusal } from '../core/refusal';
import { capturedAmountOf, COUNTED_PAYMENT_STATE, intentStatusAdvances, isFinalIntentStatus, isFullRefund, paymentStatusToApply, settlementOf } from '../core/rules';
import { RecordOrderPayment } from '../payments/usecases/record-order-payment.usecase';
import type { PaymentIntentRow } from '../repositories/payment-intents.repository';
import { PaymentIntentsRepository, paymentIntentsRepo } from '../repositories/payment-intents.repository';
import type { DojoEventRow } from '../repositories/dojo-events.repository';
import { DojoEventsRepository, dojoEventsRepo } from '../repositories/dojo-events.repository';
import { OrdersRepository, ordersRepo } from '../repositories/orders.repository';
import { posEventInsertCte, runWrites, venueFeedInsertCte } from '../repositories/outbox.repository';
import { finalWrite } from '../repositories/sql-tx';
import { readTogether } from '../repositories/unit-of-work';
import type { Tx } from '../shared/tx';
import { carriesStatus, isKnownStatus } from './dojo-event-payload';

type DojoEvent = DojoEventRow;

/**
 * 'dead': a dead letter (see libs/domain/src/dead-letters), left alone until an operator replays it. 'discarded': by
 * an operator or by retention, never applied.
 */
export type ApplyOutcome = 'applied' | 'pending_payment' | 'already_applied' | 'missing' | 'dead' | 'discarded';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** The payment row changed (intent status and/or state). */
  paymentChanged?: boolean;
  /** What the payment counts changed (its state, or a refunded amount): the order was recomputed. */
  paymentStateChanged?: boolean;
}

/**
 * Serialises all work on one payment intent at a location (events and the
 * recording of its payment) for the rest of the transaction.
 */
export async function lockPaymentIntent(tx: Tx, locationId: string, paymentIntentId: string): Promise<void> {
  await ordersRepo(tx).lockPaymentIntent(locationId, paymentIntentId);
}

/** What the apply reads about an event's intent under its locks (lockAndLoadEvents). */
export interface LoadedIntent {
  payment: PaymentRow | null;
  intent: PaymentIntentRow | null;
}

/** An event row to open for its apply (lockAndLoadEvents): where it belongs and its intent (a row's intent never changes). */
export interface EventToOpen {
  locationId: string;
  eventRowId: string;
  paymentIntentId: string | null;
  /** What Dojo said was refunded of a card machine's payment (cumulative), read before the transaction. */
  learnedRefund?: bigint;
}

/**
 * Opens the apply of one event or several in one transaction (ApplyDojoEvent:
 * an event alone, or the applies of one turn), in one round trip (readTogether:
 * on pg with BEGIN): for each event, the intent lock (when it names an intent),
 * the row lock and read, and the intent's payment and online intent. Each
 * statement runs after the locks before it were granted, so every read is taken
 * under its locks: a lock being waited for delays the reads, it never lets one
 * run without it. The events are taken in one fixed order (location, intent,
 * row), whatever order they come in, so two transactions opening overlapping
 * sets wait for each other instead of deadlocking; the answers are in the order
 * given. The caller gives each intent once: an event's reads are taken before
 * the events ahead of it are applied.
 */
export async function lockAndLoadEvents(tx: Tx, events: EventToOpen[]): Promise<{ ev: DojoEvent; loaded?: LoadedIntent }[]> {
  const keys = events.map((e) => `${e.locationId}\u0000${e.paymentIntentId ?? ''}\u0000${e.eventRowId}`);
  const order = events.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const statements: Prisma.Sql[] = [];
  for (const i of order) {
    const { locationId, eventRowId, paymentIntentId } = events[i]!;
    if (!paymentIntentId) {
      statements.push(DojoEventsRepository.lockAndReadSql(locationId, eventRowId));
      continue;
    }
    statements.push(
      OrdersRepository.lockPaymentIntentSql(locationId, paymentIntentId),
      DojoEventsRepository.lockAndReadSql(locationId, eventRowId),
      OrdersRepository.findPaymentSql(locationId, paymentIntentId),
      PaymentIntentsRepository.findByDojoIdSql(locationId, paymentIntentId),
    );
  }
  const answers = await readTogether(tx, statements);
  const out: { ev: DojoEvent; loaded?: LoadedIntent }[] = new Array(events.length);
  let at = 0;
  for (const i of order) {
    const { locationId, eventRowId, paymentIntentId } = events[i]!;
    if (!paymentIntentId) {
      out[i] = { ev: DojoEventsRepository.lockedRow(locationId, eventRowId, answers[at++] as DojoEvent[]) };
      continue;
    }
    const [, evRows, paymentRows, intentRows] = answers.slice(at, (at += 4));
    const ev = DojoEventsRepository.lockedRow(locationId, eventRowId, evRows as DojoEvent[]);
    // A row's intent never changes; were it to differ, these reads are not its intent's, and applyLockedEvent reads its own.
    out[i] =
      ev.paymentIntentId !== paymentIntentId
        ? { ev }
        : { ev, loaded: { payment: (paymentRows![0] as PaymentRow | undefined) ?? null, intent: (intentRows![0] as PaymentIntentRow | undefined) ?? null } };
  }
  return out;
}

/**
 * The event row's move to 'applied' and the venue feed's 'event.received'
 * entry that reports it, as one statement; on pg held to go out with the
 * next statement or COMMIT (runWrites, finalWrite), in that round trip.
 */
async function markAppliedAndReport(tx: Tx, ev: DojoEvent, data: unknown): Promise<void> {
  await runWrites(tx, [
    finalWrite(DojoEventsRepository.markAppliedCte('applied', ev.locationId, ev.id)),
    venueFeedInsertCte('feed', ev.locationId, 'event.received', 'dojo_event', ev.eventId, data),
  ]);
}

/** Whether a new status outranks the current one (equal ranks: the later event wins). */
async function outranks(tx: Tx, ev: DojoEvent, next: PaymentIntentStatus, current: string | null): Promise<boolean> {
  if (current === next) return false;
  if (!isKnownStatus(current)) return true;
  const rn = STATUS_RANK[next];
  const rc = STATUS_RANK[current];
  if (rn !== rc) return rn > rc;
  const last = await dojoEventsRepo(tx).lastAppliedWithStatus(ev.locationId, ev.paymentIntentId, current);
  if (!last) return true;
  const dt = ev.occurredAt.getTime() - last.occurredAt.getTime();
  return dt > 0 || (dt === 0 && ev.eventId > last.eventId);
}

function describe(ev: DojoEvent) {
  return {
    eventId: ev.eventId,
    eventType: ev.eventType,
    paymentIntentId: ev.paymentIntentId,
    paymentStatus: ev.paymentStatus,
    captureMode: ev.captureMode,
    occurredAt: ev.occurredAt.toISOString(),
    channel: ev.channel,
  };
}

/**
 * Applies one stored event. The caller holds the intent lock
 * (lockPaymentIntent) and the event row lock, in `tx`. Effects and the row's
 * move to 'applied' commit together, so an event takes effect exactly once.
 * An event for an intent with no recorded payment is kept as 'pending_payment'
 * and applied when the payment is recorded (applyPendingEventsForIntent).
 */
export async function applyLockedEvent(tx: Tx, ev: DojoEvent, log: Logger, loaded?: LoadedIntent, learnedRefund?: bigint): Promise<ApplyResult> {
  if (ev.state === 'applied') return { outcome: 'already_applied' };
  if (ev.state === 'dead' || ev.state === 'discarded') return { outcome: ev.state };
  const events = dojoEventsRepo(tx);

  if (!ev.paymentIntentId) {
    await markAppliedAndReport(tx, ev, describe(ev));
    return { outcome: 'applied' };
  }

  const payment = loaded ? loaded.payment : await ordersRepo(tx).findPayment(ev.locationId, ev.paymentIntentId);
  const status = ev.paymentStatus;
  // An online intent the venue created (payment_intents): its status moves forward, and Captured records its payment.
  const intent = loaded ? loaded.intent : await paymentIntentsRepo(tx).findByDojoId(ev.locationId, ev.paymentIntentId);
  if (intent && carriesStatus(ev.eventType) && isKnownStatus(status)) await advanceIntent(tx, intent, status);
  if (!payment) {
    if (intent && carriesStatus(ev.eventType) && isKnownStatus(status) && settlementOf(status, false) === 'record') {
      const refused = await recordOnlinePayment(tx, intent, ev, log);
      // Recorded: the event now applies to the payment like any other (an undo status undoes it at once).
      if (!refused) return applyLockedEvent(tx, await events.lockAndRead(ev.locationId, ev.id), log);
      await markAppliedAndReport(tx, ev, { ...describe(ev), orderId: intent.orderId, paymentChanged: false, refused });
      return { outcome: 'applied' };
    }
    if (intent) {
      // An online intent with nothing to record for this status (Created, Authorized, or undone before any capture).
      await markAppliedAndReport(tx, ev, { ...describe(ev), orderId: intent.orderId, paymentChanged: false });
      return { outcome: 'applied' };
    }
    if (ev.state !== 'pending_payment') await events.markPendingPayment(ev.locationId, ev.id);
    return { outcome: 'pending_payment' };
  }

  const advances = carriesStatus(ev.eventType) && isKnownStatus(status) && (await outranks(tx, ev, status, payment.intentStatus));
  // An online intent already undone (Reversed, Canceled, Refunded) that the payment does not show yet: its undo was applied
  // before the payment was recorded (a late Captured), so its status wins and undoes it now (core/rules paymentStatusToApply).
  const advanceTo = intent ? paymentStatusToApply(advances ? status : undefined, intent.status, payment.intentStatus) : advances ? status : undefined;
  // What is known refunded: an online intent's row (raised from Dojo's answers), or Dojo's answer for a card machine's payment.
  const knownRefunded = intent ? intent.refundedAmount : (learnedRefund ?? 0n);
  const change = await settlePayment(tx, ev.locationId, payment, knownRefunded, isKnownStatus(advanceTo) ? advanceTo : undefined);

  await markAppliedAndReport(tx, ev, { ...describe(ev), orderId: payment.orderId, paymentChanged: change.paymentChanged });
  await publishPaymentChange(tx, ev.locationId, payment, change, ev.eventId);
  return { outcome: 'applied', paymentChanged: change.paymentChanged, paymentStateChanged: change.paymentStateChanged };
}

type PaymentRow = NonNullable<Awaited<ReturnType<ReturnType<typeof ordersRepo>['findPayment']>>>;

interface PaymentChange {
  paymentChanged: boolean;
  /** The payment's state or refunded amount changed: what it counts towards the order changed, the order was recomputed. */
  paymentStateChanged: boolean;
  before: { state: string; intentStatus: string | null; refundedAmount: bigint };
  after: { state: string; intentStatus: string | null; refundedAmount: bigint };
}

/**
 * Moves a payment to what is known of its intent: the status an event
 * brought (`advanceTo`, already checked to outrank the payment's), and what
 * was refunded of it (`knownRefunded`, cumulative: for an online intent the
 * intent row's refundedAmount, read from Dojo before the event's transaction
 * or what the venue API's refunds add up to; for a counter sale what its
 * counter refunds add up to). The refunded amount only grows (a repeated
 * or late event changes nothing). An undo status undoes the payment, except
 * that a known partial refund (core/rules isFullRefund false) keeps it
 * Recorded and counted net of the refund (countedAmounts); a Refunded status
 * with no known amount undoes it all. The caller holds the intent lock; the
 * order row lock is taken here before the payment is written, and the order
 * recomputed when what the payment counts changed.
 */
async function settlePayment(tx: Tx, locationId: string, payment: PaymentRow, knownRefunded: bigint, advanceTo: PaymentIntentStatus | undefined): Promise<PaymentChange> {
  const before = { state: payment.state, intentStatus: payment.intentStatus, refundedAmount: payment.refundedAmount };
  const refundedAmount = knownRefunded > payment.refundedAmount && payment.state === 'Recorded' ? knownRefunded : payment.refundedAmount;
  let state: PaymentRow['state'] = advanceTo !== undefined && isUndoStatus(advanceTo) ? advanceTo : payment.state;
  if (payment.state === 'Recorded' && refundedAmount > 0n && (state === 'Recorded' || state === 'Refunded')) {
    state = isFullRefund(payment, refundedAmount) ? 'Refunded' : 'Recorded';
  }
  const after = { state, intentStatus: advanceTo ?? payment.intentStatus, refundedAmount };
  const paymentStateChanged = state !== payment.state || refundedAmount !== payment.refundedAmount;
  const paymentChanged = paymentStateChanged || after.intentStatus !== payment.intentStatus;
  if (!paymentChanged) return { paymentChanged, paymentStateChanged, before, after };
  const orders = ordersRepo(tx);
  // The order row first (same order as payment recording), then the payment.
  if (paymentStateChanged) await orders.lockRowIfExists(locationId, payment.orderId);
  await orders.setPaymentStatus(locationId, payment.paymentIntentId, after);
  if (paymentStateChanged) await orders.recomputePaid(locationId, payment.orderId);
  return { paymentChanged, paymentStateChanged, before, after };
}

/**
 * The venue feed's payment.updated entry and, when the order's money moved,
 * the OrderUpdated POS event: one statement (two tables, so their order
 * within it does not matter), on pg held to go out with the next statement
 * or COMMIT (runWrites, finalWrite).
 */
async function publishPaymentChange(tx: Tx, locationId: string, payment: PaymentRow, change: PaymentChange, eventId: string | null): Promise<void> {
  const writes: Prisma.Sql[] = [];
  if (change.paymentChanged) {
    writes.push(venueFeedInsertCte('feed', locationId, 'payment.updated', 'payment', payment.paymentIntentId, {
      paymentIntentId: payment.paymentIntentId,
      orderId: payment.orderId,
      state: change.after.state,
      intentStatus: change.after.intentStatus,
      refundedAmount: Number(change.after.refundedAmount),
      previousState: change.before.state,
      previousIntentStatus: change.before.intentStatus,
      previousRefundedAmount: Number(change.before.refundedAmount),
      eventId,
    }));
  }
  if (change.paymentStateChanged) writes.push(posEventInsertCte('outbox', locationId, 'OrderUpdated', payment.orderId, { orderId: payment.orderId }));
  if (writes.length) await runWrites(tx, [finalWrite(writes[0]!), ...writes.slice(1)]);
}

/**
 * After the venue API refunded an online intent (Dojo accepted it, and the
 * intent row's refundedAmount now includes it): applies the refunded amount
 * to the intent's payment at once, under the intent lock, as a Refunded
 * event would. Needed because a second partial refund leaves the intent's
 * status Refunded, so Dojo sends no status event for it. Nothing happens when
 * no payment is recorded yet (the capture's event records it with the
 * refund), or when an event already applied this amount.
 */
export async function settleKnownRefund(tx: Tx, locationId: string, paymentIntentId: string): Promise<boolean> {
  await lockPaymentIntent(tx, locationId, paymentIntentId);
  const payment = await ordersRepo(tx).findPayment(locationId, paymentIntentId);
  if (!payment) return false;
  const intent = await paymentIntentsRepo(tx).findByDojoId(locationId, paymentIntentId);
  const change = await settlePayment(tx, locationId, payment, intent?.refundedAmount ?? 0n, undefined);
  await publishPaymentChange(tx, locationId, payment, change, null);
  return change.paymentStateChanged;
}

/**
 * Applies `refunded`, what is known to be refunded of a payment (cumulative),
 * as settleKnownRefund does for an online intent: the payment counted net of
 * it (Refunded once in full), the order's totals, the venue feed's
 * payment.updated and the OrderUpdated POS event. For a counter refund of a
 * counter sale (SettleCounterTransaction), whose caller holds the payment's
 * lock (lockPaymentIntent) since before it added the refunds up. Answers why
 * it was not applied (no such payment, or one no longer counted), else
 * undefined.
 */
export async function applyKnownRefund(tx: Tx, locationId: string, paymentId: string, refunded: bigint): Promise<string | undefined> {
  const payment = await ordersRepo(tx).findPayment(locationId, paymentId);
  if (!payment) return `payment ${paymentId} was not found`;
  if (payment.state !== COUNTED_PAYMENT_STATE) return `payment ${paymentId} is ${payment.state}`;
  const change = await settlePayment(tx, locationId, payment, refunded, undefined);
  await publishPaymentChange(tx, locationId, payment, change, null);
  return undefined;
}

/**
 * Moves an online intent to `status` at once, through the step its event
 * takes (advanceIntent: forward only, a final status ends the reconciler's
 * watch), under the intent's lock (in `tx`): for a venue API action Dojo has
 * accepted (a cancel), so the answer and what the order may still ask for
 * show it before Dojo's event comes, which then finds it there and changes
 * nothing. The intent as it now is; null when there is no such intent.
 */
export async function advanceIntentNow(tx: Tx, locationId: string, paymentIntentId: string, status: PaymentIntentStatus): Promise<PaymentIntentRow | null> {
  await lockPaymentIntent(tx, locationId, paymentIntentId);
  const intents = paymentIntentsRepo(tx);
  const intent = await intents.findByDojoId(locationId, paymentIntentId);
  if (!intent) return null;
  if (!intentStatusAdvances(intent.status, status)) return intent;
  await advanceIntent(tx, intent, status);
  return intents.findByDojoId(locationId, paymentIntentId);
}

/** Moves an online intent's status forward (never back); a final status ends the reconciler's watch. */
async function advanceIntent(tx: Tx, intent: PaymentIntentRow, status: string): Promise<void> {
  if (!intentStatusAdvances(intent.status, status)) return;
  await paymentIntentsRepo(tx).setStatus(intent.locationId, intent.paymentIntentId!, {
    status,
    ...(isFinalIntentStatus(status) ? { nextCheckAt: null } : {}),
  });
}

/**
 * Records a captured online intent's payment on its order through the same
 * use-case the card machines use (RecordPayment), for what was captured of
 * it (core/rules capturedAmountOf: what Dojo reported, read before the
 * event's transaction, else the venue API's captures, else the whole
 * intent; a capture may take part of it), in the caller's
 * transaction, under the intent's lock (held by the caller) and the order's
 * row lock: one payment per intent, whichever channel or dialect sees it
 * first (a card machine's RecordOrderPaymentByIdV1 for the same intent is then
 * a replay). Returns why it was refused (closed or overpaid order; Dojo then
 * holds money the order cannot take: the note stays on the intent for the
 * venue to refund), or undefined when recorded.
 */
export async function recordOnlinePayment(tx: Tx, intent: PaymentIntentRow, ev: { eventId: string }, log: Logger): Promise<string | undefined> {
  const byOperations = intent.capturedAmount === null ? await paymentIntentsRepo(tx).sumCaptureOperations(intent.locationId, intent.paymentIntentId!) : 0n;
  const cmd: RecordPayment = {
    orderId: intent.orderId,
    paymentRef: intent.paymentIntentId!,
    amount: capturedAmountOf(intent, byOperations),
    tips: intent.tipsAmount,
    currency: intent.currency,
    source: 'online',
  };
  // Built per call: record-order-payment imports this module back (applyPendingEventsForIntent), so it may not be loaded yet at this module's load.
  const recordPayment = new RecordOrderPayment();
  const plan = recordPayment.plan(intent.locationId, cmd);
  const orders = ordersRepo(tx);
  await orders.lockRowIfExists(intent.locationId, intent.orderId);
  const pre = await orders.readPlanned(plan.read!);
  const ctx = {
    db: tx,
    locationId: intent.locationId,
    rpcId: `dojo-event:${ev.eventId}`,
    traceId: ev.eventId,
    log: log.child({ locationId: intent.locationId, paymentIntentId: cmd.paymentRef, orderId: intent.orderId }),
    now: new Date(),
    planned: { pre },
  };
  try {
    await recordPayment.execute(ctx, cmd);
    if (intent.settlementNote) await paymentIntentsRepo(tx).setStatus(intent.locationId, cmd.paymentRef, { status: (await currentStatus(tx, intent)), settlementNote: null });
    return undefined;
  } catch (err) {
    // A refusal is decided before any write, so the transaction goes on; anything else rolls it back (and the event is retried).
    if (!(err instanceof DomainRefusal)) throw err;
    ctx.log.warn({ err: err.message }, 'captured online payment could not be recorded on its order; refund it through the venue API');
    await paymentIntentsRepo(tx).setStatus(intent.locationId, cmd.paymentRef, { status: await currentStatus(tx, intent), settlementNote: err.message });
    return err.message;
  }
}

async function currentStatus(tx: Tx, intent: PaymentIntentRow): Promise<string> {
  return (await paymentIntentsRepo(tx).findByDojoId(intent.locationId, intent.paymentIntentId!))?.status ?? intent.status;
}
