/** Dojo Events (payment intents), delivered by webhook and by HandleEventV1. */
export const PAYMENT_INTENT_STATUSES = ['Created', 'Authorized', 'Captured', 'Reversed', 'Refunded', 'Canceled'] as const;
export type PaymentIntentStatus = (typeof PAYMENT_INTENT_STATUSES)[number];

export interface DojoEventPayload {
  id: string;
  event: string;
  accountId: string;
  createdAt: string;
  data: { paymentIntentId?: string; paymentStatus?: string; captureMode?: string; [k: string]: unknown };
}

/**
 * What a stored Dojo event (a dojo_events row) keeps of its event that never changes: whose it is, its intent and
 * the status it reports. The events queue's jobs carry it when the enqueuer knew it, so the apply need not read it.
 */
export interface DojoEventFacts {
  locationId: string;
  paymentIntentId: string | null;
  paymentStatus: string | null;
}

/**
 * Order of payment-intent states for out-of-order delivery: a status never
 * moves back to a lower rank (a late Authorized does not overwrite Captured).
 * Terminal undo states (Reversed, Refunded, Canceled) outrank the rest.
 */
export const STATUS_RANK: Record<PaymentIntentStatus, number> = {
  Created: 0,
  Authorized: 1,
  Captured: 2,
  Reversed: 3,
  Canceled: 3,
  Refunded: 4,
};

/**
 * The statuses that share their rank with another (Reversed and Canceled): only between those does the order of
 * the events applied decide which stands, so only their latest applied event is history worth keeping.
 */
export const TIED_RANK_STATUSES: readonly PaymentIntentStatus[] = (Object.keys(STATUS_RANK) as PaymentIntentStatus[]).filter((s) =>
  (Object.keys(STATUS_RANK) as PaymentIntentStatus[]).some((o) => o !== s && STATUS_RANK[o] === STATUS_RANK[s]),
);

export function isUndoStatus(s: string): s is 'Reversed' | 'Refunded' | 'Canceled' {
  return s === 'Reversed' || s === 'Refunded' || s === 'Canceled';
}
