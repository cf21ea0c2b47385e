/**
 * How long finished records are kept. Every table below grows with traffic and nothing else removes its rows;
 * what is still needed (dead letters, events waiting for a payment that is still likely, anything not finished)
 * is never a candidate. A period of 0 days keeps that kind of record for ever.
 */
export interface RetentionPolicy {
  /** Stored answers to Dojo's requests (processed_requests): a repeat of the request id within this is answered from them. */
  requestsDays: number;
  /** Delivered POS events (outbox 'sent'), applied Dojo events, and the venue feed's entries. */
  deliveredDays: number;
  /** Dojo events still waiting for a payment the EPOS never recorded ('pending_payment'): discarded after this. */
  pendingPaymentDays: number;
  /** Records an operator (or the rule above) discarded: kept this long for audit, then deleted. */
  discardedDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { requestsDays: 7, deliveredDays: 30, pendingPaymentDays: 30, discardedDays: 90 };

/** What a pass removes: records older than each cut-off (null: kept for ever). */
export interface RetentionCutoffs {
  requests: Date | null;
  delivered: Date | null;
  pendingPayment: Date | null;
  discarded: Date | null;
}

const DAY_MS = 86_400_000;

const cutoff = (now: Date, days: number): Date | null => (days > 0 ? new Date(now.getTime() - days * DAY_MS) : null);

export function retentionCutoffs(now: Date, policy: RetentionPolicy): RetentionCutoffs {
  return {
    requests: cutoff(now, policy.requestsDays),
    delivered: cutoff(now, policy.deliveredDays),
    pendingPayment: cutoff(now, policy.pendingPaymentDays),
    discarded: cutoff(now, policy.discardedDays),
  };
}

/** Why a 'pending_payment' event was discarded by retention (kept on the row for the operator). */
export function pendingPaymentDiscardReason(days: number): string {
  return `retention: no payment for its intent was recorded within ${days} days`;
}
