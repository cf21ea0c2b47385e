import type { PosEventType } from '../shared/pos-outbox';
import type { VenueStore } from '../repositories/venue-store';
import type { VenueUpsertResult } from './ports';
import type { TableRef } from './table-refs';
import { requireVenueTables } from './table-refs';
import { againIfCreatedMeanwhile } from './created-meanwhile';

/** How one kind of versioned venue row is saved (created, or replaced with its version bumped) inside a transaction: a repository method. */
export interface VersionedRowStore {
  save(s: VenueStore): Promise<{ version: number; created: boolean }>;
  /** Tables the row refers to; each must exist at the venue, unless the stored row already names it (storedTableIds). */
  tables?: TableRef[];
  /** The table ids the stored row names (none when there is no row), its row locked until the transaction ends. */
  storedTableIds?(s: VenueStore): Promise<readonly string[]>;
}

/**
 * The venue API's create-or-replace of a row Dojo reads back (party,
 * reservation), in one transaction: replaces it when it exists, creates it
 * otherwise (after checking the tables it refers to exist, or are ones it already
 * named: a table deleted since does not stop its replace), and queues the POS event that tells Dojo it changed (outbox).
 * When another write created the row after this one found none (two PUTs of a new row at once), the create fails on
 * the row's key and the whole write runs again once, as a replace (againIfCreatedMeanwhile).
 */
export function upsertVersionedRow(
  venue: VenueStore,
  locationId: string,
  id: string,
  event: { type: PosEventType; payload: unknown },
  store: VersionedRowStore,
): Promise<VenueUpsertResult> {
  return againIfCreatedMeanwhile(() =>
    venue.transaction(async (s) => {
      await requireVenueTables(s.tables, locationId, store.tables ?? [], store.storedTableIds && (() => store.storedTableIds!(s)));
      const row = await store.save(s);
      await s.enqueuePosEvent(locationId, event.type, id, event.payload);
      return { id, version: row.version, created: row.created };
    }),
  );
}
