import { findUnsafeValue } from '../shared/safe-strings';
import type { DojoEventPayload, PaymentIntentStatus } from '@app/contracts';
import { PAYMENT_INTENT_STATUSES } from '@app/contracts';

export type ParsedPayload = { ok: true; payload: DojoEventPayload } | { ok: false; reason: string };

const MAX_ID = 200;

function str(v: unknown, max = MAX_ID): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

/**
 * Checks the shape of a Dojo event (webhook body or HandleEventV1 params):
 * id, event, accountId, createdAt (ISO 8601) and a data object whose optional
 * paymentIntentId / paymentStatus / captureMode are strings. Unknown event
 * types and statuses pass (Dojo may add some); the pipeline ignores what it
 * does not know.
 */
export function parseDojoEventPayload(value: unknown): ParsedPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'body is not a JSON object' };
  const v = value as Record<string, unknown>;
  if (!str(v.id)) return { ok: false, reason: 'id is missing or not a string' };
  if (!str(v.event)) return { ok: false, reason: 'event is missing or not a string' };
  if (!str(v.accountId)) return { ok: false, reason: 'accountId is missing or not a string' };
  if (!str(v.createdAt, 64) || !/^\d{4}-\d{2}-\d{2}T/.test(v.createdAt) || Number.isNaN(Date.parse(v.createdAt))) {
    return { ok: false, reason: 'createdAt is missing or not an ISO 8601 date-time' };
  }
  if (typeof v.data !== 'object' || v.data === null || Array.isArray(v.data)) return { ok: false, reason: 'data is missing or not an object' };
  const data = v.data as Record<string, unknown>;
  for (const k of ['paymentIntentId', 'paymentStatus', 'captureMode'] as const) {
    if (data[k] !== undefined && data[k] !== null && !str(data[k])) return { ok: false, reason: `data.${k} is not a string` };
  }
  // Stored as text and JSON: Postgres refuses NUL, and a lone surrogate is not Unicode.
  const unsafe = findUnsafeValue(value);
  if (unsafe) return { ok: false, reason: `${unsafe.field} ${unsafe.reason}` };
  return { ok: true, payload: value as DojoEventPayload };
}

export function isKnownStatus(s: unknown): s is PaymentIntentStatus {
  return typeof s === 'string' && (PAYMENT_INTENT_STATUSES as readonly string[]).includes(s);
}

/** Events whose paymentStatus moves a payment intent's recorded status. */
export function carriesStatus(eventType: string): boolean {
  return eventType === 'payment_intent.created' || eventType === 'payment_intent.status_updated';
}
