import type { PrismaClient } from '@app/db';
import type { PosEventType } from '../shared/pos-outbox';
import { enqueuePosEvent } from '../shared/pos-outbox';
import type { Tx } from '../shared/tx';
import { BillsRepository } from './bills.repository';
import { OrdersRepository } from './orders.repository';
import { PartiesReservationsRepository } from './parties-reservations.repository';
import { TablesRepository } from './tables.repository';
import { runInTransaction } from './unit-of-work';
import { VenueFeedRepository } from './venue-feed.repository';

/**
 * The venue API's unit of work: the repositories of the rows a venue writes,
 * all on one connection or transaction, and the POS-event outbox they feed.
 * Use-cases get this, never the Prisma client; `transaction` runs a callback
 * with a store bound to one transaction.
 */
export class VenueStore {
  readonly orders: OrdersRepository;
  readonly parties: PartiesReservationsRepository;
  readonly tables: TablesRepository;
  readonly bills: BillsRepository;
  readonly feed: VenueFeedRepository;

  constructor(private readonly db: Tx) {
    this.orders = new OrdersRepository(db);
    this.parties = new PartiesReservationsRepository(db);
    this.tables = new TablesRepository(db);
    this.bills = new BillsRepository(db);
    this.feed = new VenueFeedRepository(db);
  }

  /** Runs fn in one transaction with a store bound to it (joins the current one when already inside). */
  async transaction<T>(fn: (s: VenueStore) => Promise<T>): Promise<T> {
    if (!('$transaction' in this.db)) return fn(this);
    return runInTransaction(this.db as PrismaClient, (tx) => fn(new VenueStore(tx)));
  }

  /** Queues the POS event that tells Dojo a row changed (outbox), in this store's transaction. */
  async enqueuePosEvent(locationId: string, eventType: PosEventType, entityId: string, payload: unknown): Promise<void> {
    await enqueuePosEvent(this.db, locationId, eventType, entityId, payload);
  }
}
