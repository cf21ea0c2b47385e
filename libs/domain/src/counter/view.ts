import type { ConnectPac, CounterEvent, CounterTransactionView } from '@app/contracts';
import type { CounterEventRow, CounterTransactionRow } from '../repositories/counter.repository';
import { parseTxIdCursor } from '../shared/int8';

/** A transaction as the venue API shows it (and `transaction` events carry). */
export function counterView(r: CounterTransactionRow): CounterTransactionView {
  const t = r.state === 'finished' ? (r.outcome as ConnectPac.PacTransaction | null) : null;
  return {
    id: r.id,
    locationId: r.locationId,
    kind: r.kind,
    tid: r.tid,
    ...(r.amount !== null ? { amount: Number(r.amount) } : {}),
    ...(r.amountCashback !== null ? { amountCashback: Number(r.amountCashback) } : {}),
    currency: r.currency,
    ...(r.orderId !== null ? { orderId: r.orderId } : {}),
    state: r.state,
    ...(r.result !== null ? { result: r.result as CounterTransactionView['result'] } : {}),
    ...(r.failure !== null ? { failure: r.failure } : {}),
    ...(r.message !== null ? { message: r.message } : {}),
    ...(t ? { transaction: t } : {}),
    ...(t?.receiptLines ? { receiptLines: t.receiptLines } : {}),
    ...(r.paymentId !== null ? { paymentId: r.paymentId } : {}),
    ...(r.refundOf !== null ? { refundOf: r.refundOf } : {}),
    ...(r.lastNotification !== null ? { lastNotification: r.lastNotification } : {}),
    ...(r.resolution !== null ? { resolution: r.resolution } : {}),
    ...(r.resolution !== null && r.resolvedAt ? { resolvedAt: r.resolvedAt.toISOString() } : {}),
    createdAt: r.createdAt.toISOString(),
    ...(r.sentAt ? { sentAt: r.sentAt.toISOString() } : {}),
    ...(r.finishedAt ? { finishedAt: r.finishedAt.toISOString() } : {}),
  };
}

/**
 * The event's id is its stream cursor `<tx_id>.<id>` (the SSE id): events are
 * replayed in (tx_id, id) order below the oldest running transaction, so a
 * POS resuming from it never misses a late commit.
 */
export function counterEventOf(e: CounterEventRow): CounterEvent {
  return {
    id: `${e.txId}.${e.id}`,
    locationId: e.locationId,
    type: e.type,
    ...(e.transactionId ? { transactionId: e.transactionId } : {}),
    ...(e.tid ? { tid: e.tid } : {}),
    data: e.data,
    at: e.createdAt.toISOString(),
  };
}

/** The cursor of an event id (`<tx_id>.<id>`, both BIGINTs), or undefined when it is not one (a number past 2^63-1 included). */
export function parseCounterCursor(s: string): { tx: bigint; id: bigint } | undefined {
  return parseTxIdCursor(s.trim());
}
