/** Dojo event payloads for the events tests (not a test file itself); rows come from `fixtures()` in @app/testing. */
import type { DojoEventPayload } from '@app/contracts';

export function eventPayload(accountId: string, id: string, event: string, paymentIntentId: string | undefined, status: string | undefined, createdAt: Date): DojoEventPayload {
  const data: DojoEventPayload['data'] = {};
  if (paymentIntentId) data.paymentIntentId = paymentIntentId;
  if (status) data.paymentStatus = status;
  data.captureMode = 'Auto';
  return { id, event, accountId, createdAt: createdAt.toISOString(), data };
}
