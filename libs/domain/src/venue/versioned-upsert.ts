import type { PrismaClient } from '@app/db';
import { enqueuePosEvent, PosEventType } from '../shared/pos-outbox';
import type { Tx } from '../shared/tx';
import type { VenueUpsertResult } from './ports';
import { requireVenueTables, TableRef } from './table-refs';

type Versioned = { version: number };

/** How one kind of versioned venue row is read, replaced (its version bumped) and created, inside a transaction. */
export interface VersionedRowStore {
  find(tx: Tx): Promise<Versioned | null>;
  replace(tx: Tx): Promise<Versioned>;
  create(tx: Tx): Promise<Versioned>;
  /** Tables the row refers to; each must exist at the venue. */
  tables?: TableRef[];
}

/**
 * The venue API's create-or-replace of a row Dojo reads back (party,
 * reservation), in one transaction: replaces it when it exists, creates it
 * otherwise (after checking the tables it refers to exist), and queues the POS event that tells Dojo it changed (outbox).
 */
export function upsertVersionedRow(
  prisma: PrismaClient,
  locationId: string,
  id: string,
  event: { type: PosEventType; payload: unknown },
  store: VersionedRowStore,
): Promise<VenueUpsertResult> {
  return prisma.$transaction(async (tx) => {
    await requireVenueTables(tx, locationId, store.tables ?? []);
    const existing = await store.find(tx);
    const row = existing ? await store.replace(tx) : await store.create(tx);
    await enqueuePosEvent(tx, locationId, event.type, id, event.payload);
    return { id, version: row.version, created: !existing };
  });
}
