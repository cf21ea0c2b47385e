import type { PaymentIntentStatus} from '@app/contracts';
import { isUndoStatus, STATUS_RANK } from '@app/contracts';
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
export async function applyLockedEvent(tx: Tx, ev: DojoEvent): Promise<ApplyResult> {
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
  if (!payment) {
    if (ev.state !== 'pending_payment') await events.markPendingPayment(ev.locationId, ev.id);
    return { outcome: 'pending_payment' };
  }

  let paymentChanged = false;
  let paymentStateChanged = false;
  const before = { state: payment.state, intentStatus: payment.intentStatus };
  let after = before;
  const status = ev.paymentStatus;
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
