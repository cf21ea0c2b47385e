import type { Logger } from '@app/common';
import type { PaymentIntentStatus} from '@app/contracts';
import { isUndoStatus, STATUS_RANK } from '@app/contracts';
import type { RecordPayment } from '../core/commands';
import { DomainRefusal } from '../core/refusal';
import { intentStatusAdvances, isFinalIntentStatus, settlementOf } from '../core/rules';
import { RecordOrderPayment } from '../payments/usecases/record-order-payment.usecase';
import type { PaymentIntentRow } from '../repositories/payment-intents.repository';
import { paymentIntentsRepo } from '../repositories/payment-intents.repository';
import type { DojoEventRow } from '../repositories/dojo-events.repository';
import { dojoEventsRepo } from '../repositories/dojo-events.repository';
import { ordersRepo } from '../repositories/orders.repository';
import { enqueuePosEvent } from '../shared/pos-outbox';
import type { Tx } from '../shared/tx';
import { appendVenueFeed } from '../shared/venue-feed';
import { carriesStatus, isKnownStatus } from './dojo-event-payload';

type DojoEvent = DojoEventRow;

/** 'dead' / 'discarded': a dead letter (see libs/domain/src/dead-letters), left alone until an operator replays it. */
export type ApplyOutcome = 'applied' | 'pending_payment' | 'already_applied' | 'missing' | 'dead' | 'discarded';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** The payment row changed (intent status and/or state). */
  paymentChanged?: boolean;
  /** The payment's state changed (Recorded -> Reversed/Refunded/Canceled): the order was recomputed. */
  paymentStateChanged?: boolean;
}

/**
 * Serialises all work on one payment intent at a location (events and the
 * recording of its payment) for the rest of the transaction.
 */
export async function lockPaymentIntent(tx: Tx, locationId: string, paymentIntentId: string): Promise<void> {
  await ordersRepo(tx).lockPaymentIntent(locationId, paymentIntentId);
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
export async function applyLockedEvent(tx: Tx, ev: DojoEvent, log: Logger): Promise<ApplyResult> {
  if (ev.state === 'applied') return { outcome: 'already_applied' };
  if (ev.state === 'dead' || ev.state === 'discarded') return { outcome: ev.state };
  const events = dojoEventsRepo(tx);
  const markApplied = () => events.markApplied(ev.locationId, ev.id);

  if (!ev.paymentIntentId) {
    await markApplied();
    await appendVenueFeed(tx, ev.locationId, 'event.received', 'dojo_event', ev.eventId, describe(ev));
    return { outcome: 'applied' };
  }

  const orders = ordersRepo(tx);
  const payment = await orders.findPayment(ev.locationId, ev.paymentIntentId);
  const status = ev.paymentStatus;
  // An online intent the venue created (payment_intents): its status moves forward, and Captured records its payment.
  const intent = await paymentIntentsRepo(tx).findByDojoId(ev.locationId, ev.paymentIntentId);
  if (intent && carriesStatus(ev.eventType) && isKnownStatus(status)) await advanceIntent(tx, intent, status);
  if (!payment) {
    if (intent && carriesStatus(ev.eventType) && isKnownStatus(status) && settlementOf(status, false) === 'record') {
      const refused = await recordOnlinePayment(tx, intent, ev, log);
      // Recorded: the event now applies to the payment like any other (an undo status undoes it at once).
      if (!refused) return applyLockedEvent(tx, await events.lockAndRead(ev.locationId, ev.id), log);
      await markApplied();
      await appendVenueFeed(tx, ev.locationId, 'event.received', 'dojo_event', ev.eventId, { ...describe(ev), orderId: intent.orderId, paymentChanged: false, refused });
      return { outcome: 'applied' };
    }
    if (intent) {
      // An online intent with nothing to record for this status (Created, Authorized, or undone before any capture).
      await markApplied();
      await appendVenueFeed(tx, ev.locationId, 'event.received', 'dojo_event', ev.eventId, { ...describe(ev), orderId: intent.orderId, paymentChanged: false });
      return { outcome: 'applied' };
    }
    if (ev.state !== 'pending_payment') await events.markPendingPayment(ev.locationId, ev.id);
    return { outcome: 'pending_payment' };
  }

  let paymentChanged = false;
  let paymentStateChanged = false;
  const before = { state: payment.state, intentStatus: payment.intentStatus };
  let after = before;
  if (carriesStatus(ev.eventType) && isKnownStatus(status) && (await outranks(tx, ev, status, payment.intentStatus))) {
    const state = isUndoStatus(status) ? status : payment.state;
    if (state !== payment.state) {
      // The order row first (same order as payment recording), then the payment.
      await orders.lockRowIfExists(ev.locationId, payment.orderId);
      paymentStateChanged = true;
    }
    await orders.setPaymentStatus(ev.locationId, ev.paymentIntentId, status, state);
    if (paymentStateChanged) await orders.recomputePaid(ev.locationId, payment.orderId);
    paymentChanged = true;
    after = { state, intentStatus: status };
  }

  await markApplied();
  await appendVenueFeed(tx, ev.locationId, 'event.received', 'dojo_event', ev.eventId, {
    ...describe(ev),
    orderId: payment.orderId,
    paymentChanged,
  });
  if (paymentChanged) {
    await appendVenueFeed(tx, ev.locationId, 'payment.updated', 'payment', ev.paymentIntentId, {
      paymentIntentId: ev.paymentIntentId,
      orderId: payment.orderId,
      state: after.state,
      intentStatus: after.intentStatus,
      previousState: before.state,
      previousIntentStatus: before.intentStatus,
      eventId: ev.eventId,
    });
  }
  if (paymentStateChanged) {
    await enqueuePosEvent(tx, ev.locationId, 'OrderUpdated', payment.orderId, { orderId: payment.orderId });
  }
  return { outcome: 'applied', paymentChanged, paymentStateChanged };
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
 * use-case the card machines use (RecordPayment), in the caller's
 * transaction, under the intent's lock (held by the caller) and the order's
 * row lock: one payment per intent, whichever channel or dialect sees it
 * first (a card machine's RecordOrderPaymentByIdV1 for the same intent is then
 * a replay). Returns why it was refused (closed or overpaid order; Dojo then
 * holds money the order cannot take: the note stays on the intent for the
 * venue to refund), or undefined when recorded.
 */
export async function recordOnlinePayment(tx: Tx, intent: PaymentIntentRow, ev: { eventId: string }, log: Logger): Promise<string | undefined> {
  const cmd: RecordPayment = {
    orderId: intent.orderId,
    paymentRef: intent.paymentIntentId!,
    amount: intent.amount,
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
