import { isUuid } from '@app/common';
import { Prisma } from '@app/db';
import { paymentIntentLockKey, type RecordedPayment } from '../core/rules';
import type { OrderCreateData, OrderWithRelations } from '../orders/order-mapper';
import type { MutationPlan } from '../rpc/exec-context';
import type { FeedKind } from '../shared/venue-feed';
import type { Tx } from '../shared/tx';
import { jsonText } from '../shared/json-value';
import { posEventInsertCte, runWrites, tsParam, venueFeedInsertCte } from './outbox.repository';
import { TablesRepository } from './tables.repository';
import { CounterRepository } from './counter.repository';
import { PaymentIntentsRepository } from './payment-intents.repository';
import type { OrderJson} from './order-json';
import { jsonValue, ORDER_JSON_SQL, orderJsonByIdSql, orderRowFromJson } from './order-json';
import { orderCacheOf } from './sql-tx';
import { CLOSED_STATUSES_SQL, COUNTED_PAID_SQL, COUNTED_TIPS_SQL, payableSql, waiterAllowedSql } from './order-rules.sql';

/**
 * The orders aggregate: orders with their items, Dojo's lock and the
 * payments. The only code that reads or writes the tables orders,
 * order_items, order_locks and payments; every method takes the location
 * first and scopes its query by it.
 *
 * Changes are planned: RpcDispatcher takes the plan's locks and reads the
 * plan's `read` in the statements that open the transaction (changePlan,
 * createPlan), the use-case decides with core/rules, and its writes (Write
 * steps from this repository, the stored response included) go out as one
 * statement through commit(). Other paths (the events worker, the venue API)
 * use the same methods for the same writes.
 */

/** One write step of a planned change (a CTE); opaque to use-cases, run by commit(). */
export type Write = Prisma.Sql;

export interface OrderLockRow {
  lockId: string;
  expiresAt: Date;
}

/** What an order change reads under the order's row lock (changePlan). */
export interface OrderForChange {
  order: OrderWithRelations | null;
  lock: OrderLockRow | null;
  /** now() of the transaction, rounded as Postgres stores it in a timestamptz(3) column. */
  dbNow: Date;
  /** With changePlan's paymentIntentId: the payment recorded for it, if any. */
  payment: RecordedPayment | null;
  /** With changePlan's paymentIntentId: whether Dojo events wait for that payment (undefined without). */
  eventsWaiting?: boolean;
  /** With changePlan's counterSales: what the counter sales still running against the order may take (0 without). */
  openCounterSales: bigint;
  /** With changePlan's openIntents: what the order's open payment intents (a checkout link out) may take (0 without). */
  openIntents: bigint;
}

/** What CreateOrder's plan reads (createPlan). */
export interface OrderCreatePre {
  existing: OrderWithRelations | null;
  /** payment intent id -> order id, for the request's intents already recorded at the location. */
  clashes: Map<string, string>;
  /** The request's intents with Dojo events waiting for their payment ('pending_payment'). */
  eventsWaiting: string[];
  /** With createPlan's tableId: whether the venue has that table (key-share-locked until the transaction ends when it does). */
  tableFound?: boolean;
  dbNow: Date;
}

/** The table sessions (orders at a table, or tabs) a pay-at-table dialect asks for; every filter given must hold. */
export interface SessionSearch {
  /** Closed (Canceled, Finalized, Failed) or open. */
  finished?: boolean;
  hasTable?: boolean;
  payable?: boolean;
  /** At one of these tables (by id). */
  tableIds?: string[];
  /** At one of the venue's tables with these names (TablesRepository.idsNamedSql). */
  tableNames?: string[];
  /** Orders of this waiter, and orders without a waiter (core/rules isWaiterAllowed: "001" is waiter 1). */
  waiterId?: string;
  /** These orders only. */
  orderIds?: string[];
}

/**
 * Most sessions one list answers: the open ones first, then the most recent
 * finished ones, listed oldest first. A venue has far fewer open sessions, so a
 * long history never hides a session that is still open.
 */
export const MAX_SESSIONS = 500;

export interface OrderSearch {
  tableId?: string | null;
  waiterId?: string | null;
  partyId?: string | null;
  reservationId?: string | null;
  payableOnly?: boolean;
  /** Only orders whose status is not closed (core/rules CLOSED_ORDER_STATUSES). */
  openOnly?: boolean;
}

/** A keyset page over seq: after/before are seq bounds (exclusive), limit rows wanted. */
export interface SeqPage {
  limit: number;
  after?: bigint;
  before?: bigint;
}

/** What taking the row lock reads of the order: enough to decide on a change without loading it. */
export interface LockedOrderRow {
  paidAmount: bigint;
  totalAmount: bigint;
  version: number;
  status: string;
  tableId: string | null;
  currency: string;
}

interface ChangeRaw {
  order: OrderJson | null;
  lock: { lock_id: string; expires_at: string } | null;
  db_now: string;
  payment?: { order_id: string; currency: string; paid_amount: string; tips_amount: string; attempted_at: string | null } | null;
  pending?: boolean;
  counter_sales?: string | number | null;
  open_intents?: string | number | null;
}

const SEARCH_COLUMNS: Record<Exclude<keyof OrderSearch, 'payableOnly' | 'openOnly'>, string> = {
  tableId: 'o.table_id',
  waiterId: 'o.waiter_id',
  partyId: 'o.party_id',
  reservationId: 'o.reservation_id',
};

/** A search's identity in the read cache: every filter and page field in a fixed order (absent, null and values told apart). */
function searchKey(f: OrderSearch, page: SeqPage): string {
  const v = (x: string | null | undefined) => (x === undefined ? 0 : x === null ? 1 : x);
  return JSON.stringify([
    v(f.tableId), v(f.waiterId), v(f.partyId), v(f.reservationId), f.payableOnly === true, f.openOnly === true,
    page.limit, page.after === undefined ? 0 : String(page.after), page.before === undefined ? 0 : String(page.before),
  ]);
}

const tsOrNull = (d: Date | null) => (d ? tsParam(d) : Prisma.sql`NULL::timestamptz`);
const jsonbOrNull = (v: unknown) => (v === null || v === undefined ? Prisma.sql`NULL::jsonb` : Prisma.sql`${jsonText(v)}::jsonb`);

export class OrdersRepository {
  constructor(private readonly db: Tx) {}

  // ---- plans (built before the transaction, read by RpcDispatcher under the plan's locks) ----

  /**
   * The plan of a change to one order: the advisory keys (with a payment
   * intent: its lock, the one the events worker takes, before the order row
   * lock), the order's row lock, and one read of the order with items,
   * payments and its lock row (live or expired) and the transaction's now();
   * with a payment intent also the payment recorded for it and whether Dojo
   * events wait for it; with counterSales what the counter sales still
   * running against the order hold, with openIntents what its open payment
   * intents may take.
   */
  static changePlan(locationId: string, orderId: string, opts: { paymentIntentId?: string; counterSales?: boolean; openIntents?: boolean } = {}): MutationPlan {
    const intent = opts.paymentIntentId;
    // Read under the order's row lock, which a counter sale's start and an intent's creation take too: neither can begin unseen meanwhile.
    const sales = opts.counterSales ? Prisma.sql`, 'counter_sales', (${CounterRepository.openSaleAmountSql(locationId, orderId)})` : Prisma.empty;
    const intents = opts.openIntents ? Prisma.sql`, 'open_intents', (${PaymentIntentsRepository.openAmountSql(locationId, orderId)})` : Prisma.empty;
    const extra =
      intent === undefined
        ? Prisma.empty
        : Prisma.sql`, 'payment', (SELECT json_build_object('order_id', p.order_id, 'currency', p.currency,
        'paid_amount', p.paid_amount::text, 'tips_amount', p.tips_amount::text, 'attempted_at', p.attempted_at)
      FROM payments p WHERE p.location_id = ${locationId}::uuid AND p.payment_intent_id = ${intent}),
    'pending', EXISTS (SELECT 1 FROM dojo_events e WHERE e.location_id = ${locationId}::uuid
      AND e.payment_intent_id = ${intent} AND e.state = 'pending_payment')`;
    return {
      advisoryKeys: intent === undefined ? undefined : [paymentIntentLockKey(locationId, intent)],
      orderId,
      read: Prisma.sql`json_build_object('order', ${orderJsonByIdSql(locationId, orderId)},
    'lock', (SELECT json_build_object('lock_id', l.lock_id, 'expires_at', l.expires_at) FROM order_locks l
              WHERE l.location_id = ${locationId}::uuid AND l.order_id = ${orderId}),
    'db_now', now()::timestamptz(3)${extra}${sales}${intents})`,
    };
  }

  static parseChange(pre: unknown): OrderForChange {
    const r = jsonValue<ChangeRaw>(pre);
    const p = r.payment;
    return {
      order: r.order ? orderRowFromJson(r.order) : null,
      lock: r.lock ? { lockId: r.lock.lock_id, expiresAt: new Date(r.lock.expires_at) } : null,
      dbNow: new Date(r.db_now),
      payment: p
        ? { orderId: p.order_id, currency: p.currency, paidAmount: BigInt(p.paid_amount), tipsAmount: BigInt(p.tips_amount), attemptedAt: p.attempted_at ? new Date(p.attempted_at) : null }
        : null,
      eventsWaiting: r.pending,
      openCounterSales: r.counter_sales === undefined || r.counter_sales === null ? 0n : BigInt(r.counter_sales),
      openIntents: r.open_intents === undefined || r.open_intents === null ? 0n : BigInt(r.open_intents),
    };
  }

  /**
   * The plan of creating the order for a Dojo order id: its advisory key and the lock of each payment intent it
   * brings (the events worker's, so an event of one either sees the payment or is seen waiting here), then one
   * read of the existing order, the intents already recorded and those with Dojo events waiting for their payment,
   * and, with `tableId` (a dine-in order's table), whether the venue has that table, key-share-locking its row as the
   * venue's order writes do (VenueStore.openOrderEdit): the venue's DELETE of the table (which locks the row FOR
   * UPDATE, then counts the open orders there) waits for this order's commit and counts it, and a delete that went
   * first is waited for and leaves the table not found.
   */
  static createPlan(locationId: string, dojoOrderId: string, advisoryKey: string, intents: string[], tableId?: string): MutationPlan {
    const intentKeys = [...new Set(intents)].sort().map((i) => paymentIntentLockKey(locationId, i));
    const table = tableId === undefined ? Prisma.empty : Prisma.sql`
        'table', (${TablesRepository.lockExistingTableIdsSql(locationId, [tableId])}),`;
    return {
      advisoryKeys: [advisoryKey, ...intentKeys],
      read: Prisma.sql`json_build_object(${table}
        'existing', (SELECT ${ORDER_JSON_SQL} FROM orders o WHERE o.location_id = ${locationId}::uuid AND o.dojo_order_id = ${dojoOrderId}),
        'clashes', (SELECT json_object_agg(p.payment_intent_id, p.order_id) FROM payments p
                     WHERE p.location_id = ${locationId}::uuid AND p.payment_intent_id = ANY(${intents}::text[])),
        'waiting', (SELECT json_agg(DISTINCT e.payment_intent_id) FROM dojo_events e
                     WHERE e.location_id = ${locationId}::uuid AND e.payment_intent_id = ANY(${intents}::text[]) AND e.state = 'pending_payment'),
        'db_now', now()::timestamptz(3))`,
    };
  }

  static parseCreate(pre: unknown): OrderCreatePre {
    const r = jsonValue<{ existing: OrderJson | null; clashes: Record<string, string> | null; waiting: string[] | null; table?: string | null; db_now: string }>(pre);
    const out: OrderCreatePre = {
      existing: r.existing ? orderRowFromJson(r.existing) : null,
      clashes: new Map(Object.entries(r.clashes ?? {})),
      eventsWaiting: r.waiting ?? [],
      dbNow: new Date(r.db_now),
    };
    if (r.table !== undefined) out.tableFound = r.table !== null;
    return out;
  }

  // ---- reads ----

  /** The order with items and payments, or null, in one round trip. */
  async find(locationId: string, orderId: string): Promise<OrderWithRelations | null> {
    const cache = orderCacheOf(this.db);
    const kept = cache?.order(locationId, orderId);
    if (kept !== undefined) return kept;
    const ticket = cache?.ticket();
    const order = OrdersRepository.foundOf(await this.db.$queryRaw<unknown[]>(OrdersRepository.findSql(locationId, orderId)));
    if (ticket !== undefined) cache!.keepOrder(ticket, locationId, orderId, order);
    return order;
  }

  /** find's statement, for a caller that sends it with others (VenueStore.readOrder); its rows: foundOf. */
  static findSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`SELECT ${ORDER_JSON_SQL} AS o FROM orders o WHERE o.location_id = ${locationId}::uuid AND o.id = ${orderId}`;
  }

  /** The order with items and payments in findSql's rows, or null. */
  static foundOf(rows: unknown): OrderWithRelations | null {
    const row = (rows as { o: unknown }[])[0];
    return row ? orderRowFromJson(jsonValue<OrderJson>(row.o)) : null;
  }

  /**
   * A keyset page of the location's orders matching the filter, in seq order
   * (limit + 1 rows, so the caller sees whether more follow), and whether a
   * match lies on the other side of the page. One statement.
   */
  async search(locationId: string, filter: OrderSearch, page: SeqPage): Promise<{ rows: OrderWithRelations[]; beyond: boolean }> {
    const cache = orderCacheOf(this.db);
    const key = cache ? searchKey(filter, page) : '';
    const kept = cache?.search(locationId, key);
    if (kept !== undefined) return { rows: kept.rows as OrderWithRelations[], beyond: kept.beyond };
    const ticket = cache?.ticket();
    const conds: Prisma.Sql[] = [Prisma.sql`o.location_id = ${locationId}::uuid`];
    for (const [key, column] of Object.entries(SEARCH_COLUMNS) as [keyof typeof SEARCH_COLUMNS, string][]) {
      const value = filter[key];
      if (value === undefined) continue;
      conds.push(value === null ? Prisma.sql`${Prisma.raw(column)} IS NULL` : Prisma.sql`${Prisma.raw(column)} = ${value}`);
    }
    if (filter.payableOnly) conds.push(Prisma.sql`o.payable = true`);
    if (filter.openOnly) conds.push(Prisma.sql`o.status NOT IN (${CLOSED_STATUSES_SQL})`);
    const where = Prisma.join(conds, ' AND ');
    const backwards = page.before !== undefined;
    const bound = backwards
      ? Prisma.sql` AND o.seq < ${page.before}::bigint`
      : page.after !== undefined
        ? Prisma.sql` AND o.seq > ${page.after}::bigint`
        : Prisma.empty;
    const dir = Prisma.raw(backwards ? 'DESC' : 'ASC');
    // Forwards: "before" exists when a match precedes the page's first seq; backwards: "after" when one follows its last.
    // A first page (forwards, no cursor) starts at the first match, so nothing precedes it: no probe (about a
    // sixth of the statement's Postgres CPU for Dojo's usual search, measured in a loop).
    const beyond = backwards
      ? Prisma.sql`EXISTS (SELECT 1 FROM orders o WHERE ${where} AND o.seq > (SELECT max(seq) FROM page))`
      : page.after === undefined
        ? Prisma.sql`false`
        : Prisma.sql`EXISTS (SELECT 1 FROM orders o WHERE ${where} AND o.seq < (SELECT min(seq) FROM page))`;
    const rows = await this.db.$queryRaw<{ page: unknown; beyond: boolean }[]>`
      WITH page AS (SELECT o.* FROM orders o WHERE ${where}${bound} ORDER BY o.seq ${dir} LIMIT ${page.limit + 1}::int)
      SELECT COALESCE((SELECT json_agg(${ORDER_JSON_SQL} ORDER BY o.seq ${dir}) FROM page o), '[]'::json) AS page, ${beyond} AS beyond`;
    const found = { rows: jsonValue<OrderJson[]>(rows[0]!.page).map(orderRowFromJson), beyond: rows[0]!.beyond };
    if (ticket !== undefined) {
      cache!.keepSearch(ticket, locationId, key, found);
      return { rows: found.rows.slice(), beyond: found.beyond };
    }
    return found;
  }

  /** The order a table session id names (core/rules tableSessionId), or null. An index probe on the generated session_id. */
  async orderIdOfSession(locationId: string, sessionId: string): Promise<string | null> {
    if (!isUuid(sessionId)) return null;
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT o.id FROM orders o WHERE o.location_id = ${locationId}::uuid AND o.session_id = ${sessionId.toLowerCase()}::uuid LIMIT 1`;
    return rows[0]?.id ?? null;
  }

  /**
   * The orders these table session ids name, by session id in lower case (ids that name none, or are no UUID, are
   * absent). One statement on the same index as orderIdOfSession.
   */
  async orderIdsOfSessions(locationId: string, sessionIds: readonly string[]): Promise<Map<string, string>> {
    const ids = [...new Set(sessionIds.filter((s) => isUuid(s)).map((s) => s.toLowerCase()))];
    if (ids.length === 0) return new Map();
    const rows = await this.db.$queryRaw<{ id: string; session_id: string }[]>`
      SELECT o.id, o.session_id::text AS session_id FROM orders o WHERE o.location_id = ${locationId}::uuid AND o.session_id = ANY(${ids}::uuid[])`;
    return new Map(rows.map((r) => [r.session_id, r.id]));
  }

  /** The location's orders matching every filter given, oldest first, at most MAX_SESSIONS. One statement. */
  async findSessions(locationId: string, f: SessionSearch): Promise<OrderWithRelations[]> {
    return OrdersRepository.sessionsOf(await this.db.$queryRaw<unknown[]>(OrdersRepository.findSessionsSql(locationId, f)));
  }

  /** findSessions' statement, for a use-case that sends it together with other reads (readTogether); rows: sessionsOf. */
  static findSessionsSql(locationId: string, f: SessionSearch): Prisma.Sql {
    const conds: Prisma.Sql[] = [Prisma.sql`o.location_id = ${locationId}::uuid`];
    if (f.finished !== undefined) conds.push(f.finished ? Prisma.sql`o.status IN (${CLOSED_STATUSES_SQL})` : Prisma.sql`o.status NOT IN (${CLOSED_STATUSES_SQL})`);
    if (f.hasTable !== undefined) conds.push(f.hasTable ? Prisma.sql`o.table_id IS NOT NULL` : Prisma.sql`o.table_id IS NULL`);
    if (f.payable !== undefined) conds.push(Prisma.sql`o.payable = ${f.payable}`);
    if (f.tableIds !== undefined) conds.push(Prisma.sql`o.table_id = ANY(${f.tableIds}::text[])`);
    if (f.tableNames !== undefined) conds.push(Prisma.sql`o.table_id IN (${TablesRepository.idsNamedSql(locationId, f.tableNames)})`);
    if (f.waiterId !== undefined) conds.push(waiterAllowedSql(f.waiterId));
    if (f.orderIds !== undefined) conds.push(Prisma.sql`o.id = ANY(${f.orderIds}::text[])`);
    return Prisma.sql`
      SELECT COALESCE(json_agg(${ORDER_JSON_SQL} ORDER BY o.seq), '[]'::json) AS page
        FROM (SELECT * FROM orders o WHERE ${Prisma.join(conds, ' AND ')}
               ORDER BY (o.status NOT IN (${CLOSED_STATUSES_SQL})) DESC, o.seq DESC LIMIT ${MAX_SESSIONS}::int) o`;
  }

  /** The orders in findSessionsSql's rows. */
  static sessionsOf(rows: unknown[]): OrderWithRelations[] {
    return jsonValue<OrderJson[]>((rows[0] as { page: unknown }).page).map(orderRowFromJson);
  }

  /** The order's lock row (live or expired), for a caller that sends it together with others (VenueStore.openOrderEdit); its rows: lockOf. */
  static findLockSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`SELECT lock_id AS "lockId", expires_at AS "expiresAt" FROM order_locks WHERE location_id = ${locationId}::uuid AND order_id = ${orderId}`;
  }

  /** The lock in findLockSql's rows. */
  static lockOf(rows: unknown): OrderLockRow | null {
    return (rows as OrderLockRow[])[0] ?? null;
  }

  /** Dojo's lock on the order (live or expired), or null. Read it after the order's row lock (lockRowIfExists): no lock can then appear before the transaction ends. */
  async findLock(locationId: string, orderId: string): Promise<OrderLockRow | null> {
    return OrdersRepository.lockOf(await this.db.$queryRaw<unknown>(OrdersRepository.findLockSql(locationId, orderId)));
  }

  /** How many payments the order has, of any state, for a caller that sends it together with others (VenueStore.openOrderEdit); its rows: sql-tx countOf. */
  static paymentCountSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`SELECT count(*)::int AS n FROM payments WHERE location_id = ${locationId}::uuid AND order_id = ${orderId}`;
  }

  /**
   * The tables with a payable order, each with the currency of its payable
   * orders (the smallest when they differ), ordered by table id.
   */
  async payableTables(locationId: string): Promise<{ tableId: string; currency: string }[]> {
    return this.db.$queryRaw<{ tableId: string; currency: string }[]>`
      SELECT o.table_id AS "tableId", min(o.currency) AS currency FROM orders o
       WHERE o.location_id = ${locationId}::uuid AND o.payable = true AND o.table_id IS NOT NULL
       GROUP BY o.table_id ORDER BY o.table_id`;
  }

  /**
   * The payments recorded for the parts of a table payment (core/rules
   * tablePaymentPartRef: the reference itself, then `<ref>/2`, `<ref>/3`, ...).
   */
  async tablePaymentParts(locationId: string, paymentRef: string): Promise<(RecordedPayment & { paymentRef: string })[]> {
    const rows = await this.db.$queryRaw<{ ref: string; order_id: string; currency: string; paid_amount: bigint; tips_amount: bigint }[]>`
      SELECT payment_intent_id AS ref, order_id, currency, paid_amount, tips_amount FROM payments
       WHERE location_id = ${locationId}::uuid
         AND (payment_intent_id = ${paymentRef}
              OR (left(payment_intent_id, ${paymentRef.length + 1}::int) = ${`${paymentRef}/`} AND substr(payment_intent_id, ${paymentRef.length + 2}::int) ~ '^[0-9]+$'))
       ORDER BY created_at, payment_intent_id`;
    return rows.map((r) => ({ paymentRef: r.ref, orderId: r.order_id, currency: r.currency, paidAmount: r.paid_amount, tipsAmount: r.tips_amount }));
  }

  /** The lock rows (live or expired) of the orders at a table, by order id. */
  async locksAtTable(locationId: string, tableId: string): Promise<{ orderId: string; lockId: string }[]> {
    return this.db.$queryRaw<{ orderId: string; lockId: string }[]>`
      SELECT o.id AS "orderId", l.lock_id AS "lockId" FROM orders o JOIN order_locks l ON l.location_id = o.location_id AND l.order_id = o.id
       WHERE o.location_id = ${locationId}::uuid AND o.table_id = ${tableId} ORDER BY o.id`;
  }

  /** The payment recorded for a payment intent, or null (every column, as Prisma's model call returns it). */
  async findPayment(locationId: string, paymentIntentId: string): Promise<Prisma.PaymentModel | null> {
    const rows = await this.db.$queryRaw<Prisma.PaymentModel[]>(OrdersRepository.findPaymentSql(locationId, paymentIntentId));
    return rows[0] ?? null;
  }

  /** findPayment's statement, for a caller that sends it together with others (event-effects lockAndLoadEvents). */
  static findPaymentSql(locationId: string, paymentIntentId: string): Prisma.Sql {
    return Prisma.sql`
      SELECT location_id::text AS "locationId", payment_intent_id AS "paymentIntentId", order_id AS "orderId", currency,
             paid_amount AS "paidAmount", tips_amount AS "tipsAmount", refunded_amount AS "refundedAmount",
             cashback_amount AS "cashbackAmount", lock_id AS "lockId", state::text AS state, intent_status AS "intentStatus",
             created_at AS "createdAt", updated_at AS "updatedAt"
        FROM payments WHERE location_id = ${locationId}::uuid AND payment_intent_id = ${paymentIntentId}`;
  }

  // ---- locks taken outside a plan (events worker, venue API) ----

  /** How many open orders (status not closed: core/rules CLOSED_ORDER_STATUSES) name the table. */
  async countOpenAtTable(locationId: string, tableId: string): Promise<number> {
    const rows = await this.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM orders o
       WHERE o.location_id = ${locationId}::uuid AND o.table_id = ${tableId} AND o.status NOT IN (${CLOSED_STATUSES_SQL})`;
    return rows[0]?.n ?? 0;
  }

  /**
   * Takes the row lock on one order (SELECT ... FOR UPDATE) inside the
   * caller's interactive transaction, so concurrent payments, lock changes,
   * cancellations, Dojo events and venue edits of the same order run one
   * after another. Undefined when the order does not exist at this location.
   */
  async lockRowIfExists(locationId: string, orderId: string): Promise<LockedOrderRow | undefined> {
    return OrdersRepository.lockedRowOf(await this.db.$queryRaw<unknown>(OrdersRepository.lockRowSql(locationId, orderId)));
  }

  /** lockRowIfExists' statement, for a caller that sends it together with others (VenueStore.openOrderEdit); its rows: lockedRowOf. */
  static lockRowSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`SELECT paid_amount AS "paidAmount", total_amount AS "totalAmount", version, status::text AS status, table_id AS "tableId", currency FROM orders WHERE location_id = ${locationId}::uuid AND id = ${orderId} FOR UPDATE`;
  }

  /** The locked order in lockRowSql's rows, undefined when there is none. */
  static lockedRowOf(rows: unknown): LockedOrderRow | undefined {
    return (rows as LockedOrderRow[])[0];
  }

  /**
   * For RpcDispatcher's first statement: a boolean SQL condition that is true
   * when the order's row lock could NOT be taken without waiting (held by
   * another transaction, or no such order). lockRowIfExists then waits for it.
   */
  static rowLockNotTakenSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`NOT EXISTS (SELECT 1 FROM orders WHERE location_id = ${locationId}::uuid AND id = ${orderId} FOR UPDATE SKIP LOCKED)`;
  }

  /** Serialises all work on one payment intent for the rest of the transaction (core/rules paymentIntentLockKey). */
  /**
   * Runs a plan's read (MutationPlan.read) in the caller's transaction, for a
   * use-case run outside RpcDispatcher (the events worker recording an online
   * payment) once the plan's locks are held.
   */
  async readPlanned(read: Prisma.Sql): Promise<unknown> {
    const [row] = await this.db.$queryRaw<{ pre: unknown }[]>`SELECT ${read} AS pre`;
    return row!.pre;
  }

  async lockPaymentIntent(locationId: string, paymentIntentId: string): Promise<void> {
    await this.db.$executeRaw(OrdersRepository.lockPaymentIntentSql(locationId, paymentIntentId));
  }

  /** lockPaymentIntent's statement (waits for the lock), for a caller that sends the reads it guards behind it in one batch. */
  static lockPaymentIntentSql(locationId: string, paymentIntentId: string): Prisma.Sql {
    return Prisma.sql`SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended(${paymentIntentLockKey(locationId, paymentIntentId)}, 0))) AS l`;
  }

  // ---- writes ----

  /** Runs the write steps (none is allowed) as one statement. */
  commit(writes: Write[]): Promise<void> {
    return runWrites(this.db, writes);
  }

  /**
   * Recomputes an order's paid and tips amounts from its counted payments
   * (core/rules paidTotals: Recorded ones, net of refunds; order-rules.sql.ts) and payable accordingly (core/rules isPayable).
   * The caller holds the order row lock. Bumps the version when anything changed.
   */
  async recomputePaid(locationId: string, orderId: string): Promise<void> {
    await this.db.$executeRaw`
    UPDATE orders o
       SET paid_amount = s.paid,
           tips_amount = s.tips,
           payable = ${payableSql(Prisma.sql`s.paid`)},
           version = o.version + 1,
           updated_at = now()
      FROM (SELECT COALESCE(SUM(${COUNTED_PAID_SQL}), 0)::bigint AS paid, COALESCE(SUM(${COUNTED_TIPS_SQL}), 0)::bigint AS tips
              FROM payments p
             WHERE p.location_id = ${locationId}::uuid AND p.order_id = ${orderId}) s
     WHERE o.location_id = ${locationId}::uuid AND o.id = ${orderId}
       AND (o.paid_amount IS DISTINCT FROM s.paid OR o.tips_amount IS DISTINCT FROM s.tips
            OR o.payable IS DISTINCT FROM ${payableSql(Prisma.sql`s.paid`)})`;
  }

  /**
   * A Dojo event or a refund moved a payment: its intent status, its state,
   * what was refunded of it (cumulative; the caller never lowers it). The
   * caller holds the intent lock and the order row lock, and recomputes the order.
   */
  async setPaymentStatus(
    locationId: string,
    paymentIntentId: string,
    data: { intentStatus: string | null; state: OrderWithRelations['payments'][number]['state']; refundedAmount: bigint },
  ): Promise<void> {
    const n = await this.db.$executeRaw`
      UPDATE payments SET intent_status = ${data.intentStatus}, state = ${data.state}::"PaymentState", refunded_amount = ${data.refundedAmount}::bigint,
             updated_at = now()
       WHERE location_id = ${locationId}::uuid AND payment_intent_id = ${paymentIntentId}`;
    if (n !== 1) throw new Error(`payment ${paymentIntentId} of location ${locationId} does not exist`);
  }

  /**
   * The venue's replace of an order it has (venue API) as write steps: the
   * order's columns from `r`, its version bumped and updatedAt `r.updatedAt`,
   * and its items replaced by `r.items`. Not written: its identity, origin and
   * Dojo's order id, its paid and tips amounts (they follow its payments) and
   * createdAt. The caller holds the order's row lock. Items are updated in
   * place by position, and those past the new last one deleted, so the steps
   * touch disjoint rows and may run in one statement in any order.
   */
  static replaceFromVenue(r: OrderWithRelations): Write[] {
    const writes: Write[] = [
      Prisma.sql`upd AS (UPDATE orders SET reference = ${r.reference}, display_name = ${r.displayName}, note = ${r.note},
      status = ${r.status}::"OrderStatus", order_type = ${r.orderType}::"OrderType", table_id = ${r.tableId}, waiter_id = ${r.waiterId},
      party_id = ${r.partyId}, reservation_id = ${r.reservationId}, ready_at = ${tsOrNull(r.readyAt)}, collection_asap = ${r.collectionAsap}::boolean,
      collect_at = ${tsOrNull(r.collectAt)}, customer = ${jsonbOrNull(r.customer)}, discounts = ${jsonText(r.discounts)}::jsonb,
      tax_lines = ${jsonText(r.taxLines)}::jsonb, currency = ${r.currency}, total_amount = ${r.totalAmount.toString()}::bigint,
      service_charge_amount = ${r.serviceChargeAmount === null ? null : r.serviceChargeAmount.toString()}::bigint, payable = ${r.payable},
      held_by_venue = ${r.heldByVenue}, version = version + 1, updated_at = ${tsParam(r.updatedAt)}
    WHERE location_id = ${r.locationId}::uuid AND id = ${r.id})`,
      Prisma.sql`gone AS (DELETE FROM order_items WHERE location_id = ${r.locationId}::uuid AND order_id = ${r.id} AND position >= ${r.items.length}::int)`,
    ];
    if (r.items.length) {
      writes.push(Prisma.sql`items AS (INSERT INTO order_items (location_id, order_id, position, name, plu, quantity, amount_per_item, note, modifiers, sub_items)
    VALUES ${Prisma.join(itemValues(r), ', ')}
    ON CONFLICT (location_id, order_id, position) DO UPDATE SET name = EXCLUDED.name, plu = EXCLUDED.plu, quantity = EXCLUDED.quantity,
      amount_per_item = EXCLUDED.amount_per_item, note = EXCLUDED.note, modifiers = EXCLUDED.modifiers, sub_items = EXCLUDED.sub_items)`);
    }
    return writes;
  }

  /** Replaces the order outright (no version carried over): the demo venue's seeding. */
  async replace(locationId: string, rows: OrderCreateData): Promise<void> {
    await this.db.order.deleteMany({ where: { locationId, id: rows.order.id } });
    await this.db.order.create({ data: rows.order });
    await this.db.orderItem.createMany({ data: rows.items });
  }

  /**
   * Deletes the order; its items and lock go with it, as would its payments and payment intents (ON DELETE CASCADE,
   * which the demo venue's reseed relies on): the venue's delete refuses an order that has any (orderDeletionRefusal).
   * The caller holds its row lock.
   */
  static deleteOrder(locationId: string, orderId: string): Write {
    return Prisma.sql`del AS (DELETE FROM orders WHERE location_id = ${locationId}::uuid AND id = ${orderId})`;
  }

  // ---- write steps of planned changes (one statement through commit) ----

  /**
   * Makes a change Dojo made to an order visible to the venue: an entry in the
   * venue feed and an OrderUpdated POS event in the outbox.
   */
  static publishChange(locationId: string, orderId: string, kind: FeedKind, data: unknown): Write[] {
    return [venueFeedInsertCte('feed', locationId, kind, 'order', orderId, data), posEventInsertCte('outbox', locationId, 'OrderUpdated', orderId, { orderId })];
  }

  /** The payment's insert; `attemptedAt`: when the terminal attempted it, if its dialect said (RecordPayment). */
  static insertPayment(p: OrderWithRelations['payments'][number], attemptedAt?: Date): Write {
    return Prisma.sql`pay AS (INSERT INTO payments (location_id, payment_intent_id, order_id, currency, paid_amount, tips_amount, cashback_amount, lock_id, attempted_at, created_at, updated_at)
      VALUES (${p.locationId}::uuid, ${p.paymentIntentId}, ${p.orderId}, ${p.currency}, ${p.paidAmount.toString()}::bigint,
              ${p.tipsAmount.toString()}::bigint, ${p.cashbackAmount.toString()}::bigint, ${p.lockId}, ${attemptedAt?.toISOString() ?? null}::timestamptz,
              ${tsParam(p.createdAt)}, ${tsParam(p.updatedAt)}))`;
  }

  /**
   * The order's paid/tips/payable as computed from its payments (version bumped, updated_at the transaction's now()).
   * Payable stays false while the venue holds the order (held_by_venue).
   */
  static setPaidTotals(locationId: string, orderId: string, t: { paidAmount: bigint; tipsAmount: bigint; payable: boolean }): Write {
    return Prisma.sql`upd AS (UPDATE orders SET paid_amount = ${t.paidAmount.toString()}::bigint,
          tips_amount = ${t.tipsAmount.toString()}::bigint, payable = ${t.payable} AND NOT held_by_venue, version = version + 1, updated_at = now()
        WHERE location_id = ${locationId}::uuid AND id = ${orderId})`;
  }

  /** Cancels the order: status Canceled, not payable, version bumped, and its lock released. */
  static cancel(locationId: string, orderId: string, updatedAt: Date): Write[] {
    return [
      Prisma.sql`unlock AS (DELETE FROM order_locks WHERE location_id = ${locationId}::uuid AND order_id = ${orderId})`,
      Prisma.sql`upd AS (UPDATE orders SET status = 'Canceled', payable = false, version = version + 1, updated_at = ${tsParam(updatedAt)}
        WHERE location_id = ${locationId}::uuid AND id = ${orderId})`,
    ];
  }

  /** Takes the order's lock, replacing a lock row that is there (an expired one: the caller checked). */
  static putLock(locationId: string, orderId: string, lockId: string, expiresAt: Date, at: Date, now: Date): Write {
    return Prisma.sql`lck AS (INSERT INTO order_locks (location_id, order_id, lock_id, expires_at, created_at, updated_at)
          VALUES (${locationId}::uuid, ${orderId}, ${lockId}, ${tsParam(expiresAt)}, ${tsParam(at)}, ${tsParam(at)})
          ON CONFLICT (location_id, order_id) DO UPDATE SET lock_id = EXCLUDED.lock_id, expires_at = EXCLUDED.expires_at,
            created_at = ${tsParam(now)}, updated_at = EXCLUDED.updated_at)`;
  }

  static setLockExpiry(locationId: string, orderId: string, expiresAt: Date, at: Date): Write {
    return Prisma.sql`upd AS (UPDATE order_locks SET expires_at = ${tsParam(expiresAt)}, updated_at = ${tsParam(at)}
          WHERE location_id = ${locationId}::uuid AND order_id = ${orderId})`;
  }

  static deleteLock(locationId: string, orderId: string): Write {
    return Prisma.sql`del AS (DELETE FROM order_locks WHERE location_id = ${locationId}::uuid AND order_id = ${orderId})`;
  }

  /** The order row, its items and its payments, as built by the caller (OrderWithRelations). */
  static insertOrder(r: OrderWithRelations): Write[] {
    const writes: Write[] = [
      Prisma.sql`ord AS (INSERT INTO orders (location_id, id, origin, dojo_order_id, reference, display_name, note, status, order_type,
      table_id, waiter_id, party_id, reservation_id, ready_at, collection_asap, collect_at, customer, discounts, tax_lines, currency,
      total_amount, service_charge_amount, paid_amount, tips_amount, payable, held_by_venue, version, created_at, updated_at)
    VALUES (${r.locationId}::uuid, ${r.id}, ${r.origin}::"OrderOrigin", ${r.dojoOrderId}, ${r.reference}, ${r.displayName}, ${r.note},
      ${r.status}::"OrderStatus", ${r.orderType}::"OrderType", ${r.tableId}, ${r.waiterId}, ${r.partyId}, ${r.reservationId},
      ${tsOrNull(r.readyAt)}, ${r.collectionAsap}::boolean, ${tsOrNull(r.collectAt)}, ${jsonbOrNull(r.customer)}, ${jsonText(r.discounts)}::jsonb,
      ${jsonText(r.taxLines)}::jsonb, ${r.currency}, ${r.totalAmount.toString()}::bigint,
      ${r.serviceChargeAmount === null ? null : r.serviceChargeAmount.toString()}::bigint, ${r.paidAmount.toString()}::bigint,
      ${r.tipsAmount.toString()}::bigint, ${r.payable}, ${r.heldByVenue}, ${r.version}::int, ${tsParam(r.createdAt)}, ${tsParam(r.updatedAt)}))`,
    ];
    if (r.items.length) {
      writes.push(Prisma.sql`items AS (INSERT INTO order_items (location_id, order_id, position, name, plu, quantity, amount_per_item, note, modifiers, sub_items)
    VALUES ${Prisma.join(itemValues(r), ', ')})`);
    }
    if (r.payments.length) {
      const rows = r.payments.map(
        (p) => Prisma.sql`(${p.locationId}::uuid, ${p.paymentIntentId}, ${p.orderId}, ${p.currency}, ${p.paidAmount.toString()}::bigint,
      ${p.tipsAmount.toString()}::bigint, ${tsParam(p.createdAt)}, ${tsParam(p.updatedAt)})`,
      );
      writes.push(Prisma.sql`pays AS (INSERT INTO payments (location_id, payment_intent_id, order_id, currency, paid_amount, tips_amount, created_at, updated_at)
    VALUES ${Prisma.join(rows, ', ')})`);
    }
    return writes;
  }
}

/** The order's items as rows of an INSERT's VALUES, in order_items' column order. */
function itemValues(r: OrderWithRelations): Prisma.Sql[] {
  return r.items.map(
    (it) => Prisma.sql`(${r.locationId}::uuid, ${r.id}, ${it.position}::int, ${it.name}, ${it.plu}, ${it.quantity}::int,
      ${it.amountPerItem.toString()}::bigint, ${it.note}, ${jsonText(it.modifiers)}::jsonb, ${jsonText(it.subItems)}::jsonb)`,
  );
}

/** The repository on a database handle (the request's transaction, or the client for reads). */
export const ordersRepo = (db: Tx) => new OrdersRepository(db);
