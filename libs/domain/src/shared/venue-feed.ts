import type { Tx } from './tx';

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
 * shows exactly what was committed (nothing rolled back, nothing twice).
 */
export async function appendVenueFeed(
  tx: Tx,
  locationId: string,
  kind: FeedKind,
  entityType: string,
  entityId: string,
  data: unknown,
): Promise<void> {
  await tx.venueFeedEntry.create({ data: { locationId, kind, entityType, entityId, data: toJson(data) } });
}

/** BigInt-safe JSON for Prisma Json columns. */
export function toJson(value: unknown): any {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}
