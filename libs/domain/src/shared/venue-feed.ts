import type { Tx } from './tx';
import { runWrites, venueFeedInsertCte } from '../repositories/outbox.repository';
import { jsonText } from './json-value';

/** Kinds of entries in the venue feed (what happened on Dojo's side, for the POS to read). */
export type FeedKind =
  | 'payment.recorded'
  | 'payment.updated'
  | 'lock.created'
  | 'lock.extended'
  | 'lock.released'
  | 'order.created'
  | 'order.cancelled'
  | 'party.created'
  | 'party.updated'
  | 'party.deleted'
  | 'reservation.created'
  | 'reservation.updated'
  | 'reservation.deleted'
  | 'event.received';

/**
 * Appends an entry to the venue feed, in the caller's transaction, so the feed
 * shows exactly what was committed (nothing rolled back, nothing twice). The
 * row is venueFeedInsertCte's, the one definition of a feed entry; a change
 * that writes more than the entry folds that CTE into its own statement.
 */
export async function appendVenueFeed(
  tx: Tx,
  locationId: string,
  kind: FeedKind,
  entityType: string,
  entityId: string,
  data: unknown,
): Promise<void> {
  await runWrites(tx, [venueFeedInsertCte('feed', locationId, kind, entityType, entityId, data)]);
}

/** BigInt-safe JSON for Prisma Json columns. */
export function toJson(value: unknown): any {
  return JSON.parse(jsonText(value));
}
