import type { Tx } from './tx';
import { posEventInsertCte, runWrites } from '../repositories/outbox.repository';

export type PosEventType = 'OrderUpdated' | 'PartyUpdated' | 'ReservationUpdated';

/**
 * Queues a POS event for Dojo (POST /epos/events) in the caller's transaction.
 * The outbox dispatcher sends rows in id order per entity, retrying with backoff.
 * The row is posEventInsertCte's (one definition of an outbox row).
 */
export async function enqueuePosEvent(tx: Tx, locationId: string, eventType: PosEventType, entityId: string, payload: unknown): Promise<void> {
  await runWrites(tx, [posEventInsertCte('outbox', locationId, eventType, entityId, payload)]);
}
