import type { Tx } from './tx';
import { toJson } from './venue-feed';

export type PosEventType = 'OrderUpdated' | 'PartyUpdated' | 'ReservationUpdated';

const ENTITY: Record<PosEventType, string> = {
  OrderUpdated: 'order',
  PartyUpdated: 'party',
  ReservationUpdated: 'reservation',
};

/**
 * Queues a POS event for Dojo (POST /epos/events) in the caller's transaction.
 * The outbox dispatcher sends rows in id order per entity, retrying with backoff.
 */
export async function enqueuePosEvent(tx: Tx, locationId: string, eventType: PosEventType, entityId: string, payload: unknown): Promise<void> {
  await tx.outboxEvent.create({
    data: { locationId, eventType, entityType: ENTITY[eventType], entityId, payload: toJson(payload) },
  });
}
