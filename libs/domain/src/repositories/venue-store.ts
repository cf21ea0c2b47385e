import type { PrismaClient } from '@app/db';
import type { OrderMoneyInFlight, OrderMoneyRecords } from '../core/rules';
import type { OrderWithRelations } from '../orders/order-mapper';
import type { PosEventType } from '../shared/pos-outbox';
import { enqueuePosEvent } from '../shared/pos-outbox';
import type { Tx } from '../shared/tx';
import { BillsRepository } from './bills.repository';
import { constrained } from './constraint-violation';
import { CounterRepository } from './counter.repository';
import { LocationsRepository } from './locations.repository';
import type { LockedOrderRow, OrderLockRow, Write } from './orders.repository';
import { OrdersRepository } from './orders.repository';
import { posEventInsertCte, runWrites } from './outbox.repository';
import { PartiesReservationsRepository } from './parties-reservations.repository';
import { PaymentIntentsRepository } from './payment-intents.repository';
import { countOf, finalWrite } from './sql-tx';
import { TablesRepository } from './tables.repository';
import { waitBoundSql, waitsBounded, readTogether, runInTransaction, runPlannedTransaction } from './unit-of-work';
import { VenueFeedRepository } from './venue-feed.repository';

/** What a venue's edit of an order reads under its locks (VenueStore.openOrderEdit). */
export interface OrderEdit {
  /** Those of the tables asked for that the venue has, key-share-locked until the transaction ends. */
  tables: Set<string>;
  /** The order as its row lock found it; undefined when the venue has no such order. */
  current: LockedOrderRow | undefined;
  /** Dojo's lock on the order (live or expired), read once the row lock was held. */
  lock: OrderLockRow | null;
  /** What records money against the order, read once the row lock was held; only when asked for (a delete). */
  money?: OrderMoneyRecords;
}

/** An order edit's transaction: Prisma's interactive-transaction defaults, which the venue API has always had. */
const ORDER_EDIT_TX = { maxWait: 2000, timeout: 5000 };

/**
 * How long a venue's write waits for a row or key another transaction holds (its statement_timeout) before it gives up
 * with WaitTimedOut (the admin answers 503 busy). Dojo's changes and the workers hold an order's row for
 * milliseconds; this bounds what a stuck holder (an operator's open psql transaction, a long migration) costs: each
 * waiting write would otherwise hold one of the admin's pooled connections until the holder let go. The venue API's
 * other order-locking writes (a payment intent's claim, a counter sale's start) use it too.
 */
export const VENUE_WAIT_BOUND_MS = 2_000;

const BOUND_WAITS = waitBoundSql(VENUE_WAIT_BOUND_MS);

/** The reads of what records money against an order: its payments, its payment intents, its running counter sales (moneyOf). */
function moneyStatements(locationId: string, orderId: string) {
  return [OrdersRepository.paymentCountSql(locationId, orderId), PaymentIntentsRepository.countForOrderSql(locationId, orderId), CounterRepository.openSaleAmountSql(locationId, orderId)];
}

function moneyOf([payments, intents, counterSales]: unknown[][]): OrderMoneyRecords {
  return { payments: countOf(payments), paymentIntents: countOf(intents), openCounterSaleAmount: CounterRepository.openSaleAmountOf(counterSales) };
}

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
  /** The venue's own location, read only (e.g. which protocol its card machines speak). */
  readonly locations: LocationsRepository;

  /**
   * @param db the client, or a transaction's handle: what transactions open on and their repositories use
   * @param direct outside a transaction, what the repositories use instead: the admin app gives `rawOnPg(client)`, so
   *   their raw statements (the feed's read, an order's read) go straight to pg without Prisma's runtime, while their
   *   model calls still go through Prisma. Transactions still open on `db`.
   */
  constructor(
    private readonly db: Tx,
    direct: Tx = db,
  ) {
    this.orders = new OrdersRepository(direct);
    this.parties = new PartiesReservationsRepository(direct);
    this.tables = new TablesRepository(direct);
    this.bills = new BillsRepository(direct);
    this.feed = new VenueFeedRepository(direct);
    this.locations = new LocationsRepository(direct);
  }

  /**
   * Runs fn in one transaction with a store bound to it (joins the current one when already inside), its waits
   * bounded by VENUE_WAIT_BOUND_MS (one statement before fn's). A unique or foreign-key violation is thrown as a
   * ConstraintViolation and a wait past the bound as WaitTimedOut, as sqlTransaction does.
   */
  async transaction<T>(fn: (s: VenueStore) => Promise<T>): Promise<T> {
    if (!('$transaction' in this.db)) return fn(this);
    return constrained(() => runInTransaction(this.db as PrismaClient, (tx) => fn(new VenueStore(tx)), { waitBoundMs: VENUE_WAIT_BOUND_MS }));
  }

  /**
   * Runs fn in one transaction whose statements are all raw SQL (an order's
   * edit: openOrderEdit, then commitWithPosEvent), on pg directly with
   * Prisma's pool when the client has a SqlRunner (runPlannedTransaction: two
   * round trips, no Prisma runtime), else in Prisma's transaction. A unique or
   * foreign-key violation, at any statement or at COMMIT, is thrown as a
   * ConstraintViolation, and a wait past VENUE_WAIT_BOUND_MS as
   * WaitTimedOut (openOrderEdit, fn's first call, sets the bound). Joins
   * the current transaction when already inside one.
   */
  async sqlTransaction<T>(fn: (s: VenueStore) => Promise<T>): Promise<T> {
    if (!('$transaction' in this.db)) return fn(this);
    return constrained(() => waitsBounded(() => runPlannedTransaction(this.db as PrismaClient, (tx) => fn(new VenueStore(tx)), ORDER_EDIT_TX)));
  }

  /**
   * Opens an edit of an order, in one round trip on pg (readTogether; with
   * BEGIN when it is the transaction's first): bounds the transaction's
   * statements (VENUE_WAIT_BOUND_MS), key-share-locks the tables
   * given that the venue has (none given: none read), takes the order's row
   * lock, then reads Dojo's lock on it and, with `money`, what records money
   * against it (payments, payment intents, counter sales still running).
   * Postgres runs them in that order, each after the locks before it were
   * granted, so these reads see everything committed before this edit held the
   * row; and what writes them holds the same row lock, so nothing new can be
   * written until this edit's transaction ends.
   */
  async openOrderEdit(locationId: string, orderId: string, tableIds: readonly string[], o: { money?: boolean } = {}): Promise<OrderEdit> {
    const tables = tableIds.length ? [TablesRepository.lockExistingTableIdsSql(locationId, tableIds)] : [];
    const money = o.money ? moneyStatements(locationId, orderId) : [];
    const answers = await readTogether(this.db, [BOUND_WAITS, ...tables, OrdersRepository.lockRowSql(locationId, orderId), OrdersRepository.findLockSql(locationId, orderId), ...money]);
    const [orderRows, lockRows, ...moneyRows] = answers.slice(1 + tables.length);
    return {
      tables: tables.length ? TablesRepository.tableIdsOf(answers[1]) : new Set(),
      current: OrdersRepository.lockedRowOf(orderRows),
      lock: OrdersRepository.lockOf(lockRows),
      ...(o.money ? { money: moneyOf(moneyRows) } : {}),
    };
  }

  /** The whole order (items and payments), read in the edit's transaction under the order's row lock; null when there is none. */
  async readOrder(locationId: string, orderId: string): Promise<OrderWithRelations | null> {
    const [rows] = await readTogether(this.db, [OrdersRepository.findSql(locationId, orderId)]);
    return OrdersRepository.foundOf(rows);
  }

  /** What records money against the order (as openOrderEdit's `money`), read in the edit's transaction under the order's row lock. */
  async readOrderMoney(locationId: string, orderId: string): Promise<OrderMoneyRecords> {
    return moneyOf(await readTogether(this.db, moneyStatements(locationId, orderId)));
  }

  /**
   * What may still be paid on the order by what is in flight (as openOrderEdit's reads, in the edit's transaction
   * under the order's row lock): its open payment intents and the counter sales that still hold (running, or
   * outcome_unknown and not resolved). Both are written under the same row lock, so neither grows meanwhile.
   */
  async readMoneyInFlight(locationId: string, orderId: string): Promise<OrderMoneyInFlight> {
    const [intents, counterSales] = await readTogether(this.db, [PaymentIntentsRepository.openAmountSql(locationId, orderId), CounterRepository.openSaleAmountSql(locationId, orderId)]);
    return { openIntentAmount: PaymentIntentsRepository.openAmountOf(intents), openCounterSaleAmount: CounterRepository.openSaleAmountOf(counterSales) };
  }

  /**
   * Runs an edit's write steps (OrdersRepository's) and the POS event that
   * tells Dojo the entity changed (outbox) as one statement; in sqlTransaction
   * on pg it goes out with COMMIT, in the same round trip.
   */
  async commitWithPosEvent(writes: Write[], locationId: string, eventType: PosEventType, entityId: string, payload: unknown): Promise<void> {
    await runWrites(this.db, [...writes, finalWrite(posEventInsertCte('outbox', locationId, eventType, entityId, payload))]);
  }

  /** Queues the POS event that tells Dojo a row changed (outbox), in this store's transaction. */
  async enqueuePosEvent(locationId: string, eventType: PosEventType, entityId: string, payload: unknown): Promise<void> {
    await enqueuePosEvent(this.db, locationId, eventType, entityId, payload);
  }
}
