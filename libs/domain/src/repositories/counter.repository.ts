import { isUuid } from '@app/common';
import type { CounterEventType, CounterFailure, CounterKind, CounterResolution, CounterState } from '@app/contracts';
import { COUNTER_OPEN_STATES } from '@app/contracts';
import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';
import { constrained } from './constraint-violation';
import { jsonText } from '../shared/json-value';

/** One counter transaction (counter_transactions), money in minor units. */
export interface CounterTransactionRow {
  id: string;
  locationId: string;
  idempotencyKey: string;
  requestHash: string;
  kind: CounterKind;
  tid: string;
  amount: bigint | null;
  amountCashback: bigint | null;
  currency: string;
  orderId: string | null;
  state: CounterState;
  result: string | null;
  failure: CounterFailure | null;
  message: string | null;
  /** Connect's final transaction as read (or, for an unreadable or unmatched answer, what came). */
  outcome: unknown;
  lastNotification: string | null;
  fence: bigint | null;
  sentBy: string | null;
  sentAt: Date | null;
  cancelRequestedAt: Date | null;
  cancelSentAt: Date | null;
  expiresAt: Date;
  finishedAt: Date | null;
  /** The payment this transaction changed: recorded (a sale) or refunded (a refund of a sale). */
  paymentId: string | null;
  /** A refund of an earlier counter sale: that sale's id. */
  refundOf: string | null;
  /** What the venue found on its terminal for a failed outcome_unknown transaction (resolve); null until then. */
  resolution: CounterResolution | null;
  resolvedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What the refunds of one counter sale did and may still do (minor units). */
export interface SaleRefunds {
  /** The refunds that ran: finished SUCCESSFUL (the terminal's amountBase, else the amount asked), or resolved charged (the amount asked). */
  refunded: bigint;
  /** What the refunds still running, or of an outcome not resolved yet, may take. */
  open: bigint;
}

/** A row changed by a claim, with the state it had before (to tell a change from a re-claim). */
export type ClaimedCounterRow = CounterTransactionRow & { previousState: CounterState };

/** One stored event of the venue's counter stream. `txId` and `id` make its cursor (see CounterEventsCursor). */
export interface CounterEventRow {
  id: bigint;
  txId: bigint;
  locationId: string;
  transactionId: string | null;
  tid: string | null;
  type: CounterEventType;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface NewCounterEvent {
  type: CounterEventType;
  transactionId?: string;
  tid?: string;
  data: Record<string, unknown>;
}

const COLUMNS = Prisma.sql`
  t.id::text AS "id", t.location_id::text AS "locationId", t.idempotency_key AS "idempotencyKey", t.request_hash AS "requestHash",
  t.kind, t.tid, t.amount, t.amount_cashback AS "amountCashback", t.currency, t.order_id AS "orderId", t.state, t.result, t.failure,
  t.message, t.outcome, t.last_notification AS "lastNotification", t.fence, t.sent_by AS "sentBy", t.sent_at AS "sentAt",
  t.cancel_requested_at AS "cancelRequestedAt", t.cancel_sent_at AS "cancelSentAt", t.expires_at AS "expiresAt",
  t.finished_at AS "finishedAt", t.payment_id AS "paymentId", t.refund_of::text AS "refundOf", t.resolution, t.resolved_at AS "resolvedAt", t.created_at AS "createdAt",
  t.updated_at AS "updatedAt"`;

const EVENT_COLUMNS = Prisma.sql`
  e.id, e.tx_id AS "txId", e.location_id::text AS "locationId", e.transaction_id::text AS "transactionId", e.tid, e.type, e.data,
  e.created_at AS "createdAt"`;

/** A claim on a transaction on the terminal that nobody has touched for this long may be taken by any owner (a fencing counter lost with Redis). */
const STALE_CLAIM = '10 minutes';

/** The open states in which the transaction is (or may be) running on the terminal. */
const ON_TERMINAL = Prisma.sql`('sent', 'cancel_requested', 'recovering')`;

const RECOVERY_STOPPED =
  "the POS stopped the recovery before the terminal's last transaction was read: check the terminal's receipts, then resolve it (it holds its amount until then)";

/** A cancel to send (claimCancels): never sent, or sent 10 s ago while its transaction still runs. */
const CANCEL_DUE = Prisma.sql`(cancel_sent_at IS NULL OR cancel_sent_at < now() - interval '10 seconds')`;

/** The states in which a transaction may still change (@app/contracts COUNTER_OPEN_STATES), as an SQL list of literals. */
const OPEN_STATES_LIST = `(${COUNTER_OPEN_STATES.map((s) => `'${s}'`).join(', ')})`;
const OPEN_STATES = Prisma.raw(OPEN_STATES_LIST);

/**
 * A transaction that still holds its amount (on its order, or on the sale it refunds): open, or failed
 * outcome_unknown and not resolved yet (it may have charged the card; the venue resolves it, core/rules
 * resolutionOf). Rows from before holds existed carry resolved_at without a resolution (migration
 * 20261210000000): released, as the advice of their day was to check the receipts before charging again.
 */
const HOLDS = Prisma.raw(`(state IN ${OPEN_STATES_LIST} OR (failure = 'outcome_unknown' AND resolved_at IS NULL))`);

/**
 * counter_transactions and counter_events: the only code that reads or writes
 * them. Location first, as every repository. The claims are conditional
 * UPDATEs, so two callers never both move one transaction.
 */
export class CounterRepository {
  constructor(private readonly db: Tx) {}

  // ---- transactions ----

  async find(locationId: string, id: string): Promise<CounterTransactionRow | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.$queryRaw<CounterTransactionRow[]>`
      SELECT ${COLUMNS} FROM counter_transactions t WHERE t.location_id = ${locationId}::uuid AND t.id = ${id}::uuid`;
    return rows[0] ?? null;
  }

  /** The row locked for the rest of the transaction (settling it), or null. */
  async lockForSettle(locationId: string, id: string): Promise<CounterTransactionRow | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.$queryRaw<CounterTransactionRow[]>`
      SELECT ${COLUMNS} FROM counter_transactions t WHERE t.location_id = ${locationId}::uuid AND t.id = ${id}::uuid FOR UPDATE`;
    return rows[0] ?? null;
  }

  /**
   * Serialises, until the transaction ends, the settling of a terminal's transactions with what the terminal
   * reported (settledWith reads what the others settled with).
   */
  async lockTerminalSettling(locationId: string, tid: string): Promise<void> {
    await this.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`counter-terminal:${locationId}:${tid}`}, 0))`;
  }

  /**
   * Another transaction of the terminal that finished with the terminal's transaction `t` (the same Connect
   * transactionId, or without one the same transactionNumber and transactionTime): its id. Looks back a day from
   * `since` (a recovered transaction's sentAt: an older one cannot match it anyway).
   */
  async settledWith(locationId: string, tid: string, exceptId: string, t: { transactionId?: string; transactionNumber?: string; transactionTime?: string }, since: Date): Promise<string | undefined> {
    const same =
      t.transactionId !== undefined
        ? Prisma.sql`t.outcome ->> 'transactionId' = ${t.transactionId}`
        : t.transactionNumber !== undefined && t.transactionTime !== undefined
          ? Prisma.sql`t.outcome ->> 'transactionId' IS NULL AND t.outcome ->> 'transactionNumber' = ${t.transactionNumber} AND t.outcome ->> 'transactionTime' = ${t.transactionTime}`
          : undefined;
    if (!same) return undefined;
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT t.id::text AS id FROM counter_transactions t
      WHERE t.location_id = ${locationId}::uuid AND t.tid = ${tid} AND t.created_at >= ${since}::timestamptz - interval '1 day'
        AND t.id <> ${exceptId}::uuid AND t.state = 'finished' AND ${same}
      LIMIT 1`;
    return rows[0]?.id;
  }

  async findByKey(locationId: string, idempotencyKey: string): Promise<CounterTransactionRow | null> {
    const rows = await this.db.$queryRaw<CounterTransactionRow[]>`
      SELECT ${COLUMNS} FROM counter_transactions t WHERE t.location_id = ${locationId}::uuid AND t.idempotency_key = ${idempotencyKey}`;
    return rows[0] ?? null;
  }

  /** Newest first; filtered by terminal and state. */
  list(locationId: string, f: { tid?: string; state?: CounterState; limit: number }): Promise<CounterTransactionRow[]> {
    return this.db.$queryRaw<CounterTransactionRow[]>`
      SELECT ${COLUMNS} FROM counter_transactions t
      WHERE t.location_id = ${locationId}::uuid
        ${f.tid !== undefined ? Prisma.sql`AND t.tid = ${f.tid}` : Prisma.empty}
        ${f.state !== undefined ? Prisma.sql`AND t.state = ${f.state}` : Prisma.empty}
      ORDER BY t.created_at DESC, t.id DESC
      LIMIT ${f.limit}`;
  }

  /** What the counter sales against an order may still take or may have taken unseen (minor units): those that hold (HOLDS). */
  async openSaleAmount(locationId: string, orderId: string): Promise<bigint> {
    return CounterRepository.openSaleAmountOf(await this.db.$queryRaw<unknown>(CounterRepository.openSaleAmountSql(locationId, orderId)));
  }

  /** openSaleAmount of several orders in one statement: order id to amount, orders with no holding sale left out. */
  async openSaleAmounts(locationId: string, orderIds: readonly string[]): Promise<Map<string, bigint>> {
    if (orderIds.length === 0) return new Map();
    const rows = await this.db.$queryRaw<{ order_id: string; s: bigint | string }[]>`
      SELECT order_id, sum(amount)::bigint AS s FROM counter_transactions
      WHERE location_id = ${locationId}::uuid AND order_id = ANY(${[...orderIds]}::text[]) AND kind = 'sale' AND ${HOLDS}
      GROUP BY order_id`;
    return new Map(rows.map((r) => [r.order_id, BigInt(r.s)]));
  }

  /** openSaleAmount's statement, for a caller that sends it together with others (VenueStore.openOrderEdit); its rows: openSaleAmountOf. */
  static openSaleAmountSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`
      SELECT sum(amount)::bigint AS s FROM counter_transactions
      WHERE location_id = ${locationId}::uuid AND order_id = ${orderId} AND kind = 'sale' AND ${HOLDS}`;
  }

  /** The amount in openSaleAmountSql's rows (0 when no sale is open). */
  static openSaleAmountOf(rows: unknown): bigint {
    const s = (rows as { s: bigint | string | null }[])[0]?.s;
    return s === null || s === undefined ? 0n : BigInt(s);
  }

  /** What the refunds of a counter sale did and may still do (SaleRefunds). */
  async refundsOfSale(locationId: string, saleId: string): Promise<SaleRefunds> {
    const rows = await this.db.$queryRaw<{ refunded: bigint | null; open: bigint | null }[]>`
      SELECT (coalesce(sum(coalesce((outcome ->> 'amountBase')::bigint, amount)) FILTER (WHERE state = 'finished' AND result = 'SUCCESSFUL'), 0)
              + coalesce(sum(amount) FILTER (WHERE resolution = 'charged'), 0))::bigint AS refunded,
             sum(amount) FILTER (WHERE ${HOLDS})::bigint AS open
        FROM counter_transactions
       WHERE location_id = ${locationId}::uuid AND refund_of = ${saleId}::uuid AND kind = 'refund'`;
    return { refunded: rows[0]?.refunded ?? 0n, open: rows[0]?.open ?? 0n };
  }

  /** The transaction running on a terminal now (the newest sent one), if any. */
  async openOnTerminal(locationId: string, tid: string): Promise<CounterTransactionRow | null> {
    const rows = await this.db.$queryRaw<CounterTransactionRow[]>`
      SELECT ${COLUMNS} FROM counter_transactions t
      WHERE t.location_id = ${locationId}::uuid AND t.tid = ${tid} AND t.state IN ${ON_TERMINAL}
      ORDER BY t.sent_at DESC NULLS LAST, t.created_at DESC LIMIT 1`;
    return rows[0] ?? null;
  }

  /**
   * The transaction a notification from the terminal belongs to: the one
   * running on it, else the one that ended on it within `graceMs` (Connect
   * sends the last notifications just before its reply, and the reply may be
   * settled first).
   */
  async forNotification(locationId: string, tid: string, graceMs: number): Promise<CounterTransactionRow | null> {
    const rows = await this.db.$queryRaw<CounterTransactionRow[]>`
      SELECT ${COLUMNS} FROM counter_transactions t
      WHERE t.location_id = ${locationId}::uuid AND t.tid = ${tid}
        AND (t.state IN ${ON_TERMINAL} OR (t.sent_at IS NOT NULL AND t.finished_at > now() - ${`${graceMs} milliseconds`}::interval))
      ORDER BY (t.state IN ${ON_TERMINAL}) DESC, t.sent_at DESC NULLS LAST, t.created_at DESC LIMIT 1`;
    return rows[0] ?? null;
  }

  /** A new command (state accepted); a key taken meanwhile is a ConstraintViolation. */
  async insert(
    row: Pick<CounterTransactionRow, 'id' | 'locationId' | 'idempotencyKey' | 'requestHash' | 'kind' | 'tid' | 'amount' | 'amountCashback' | 'currency' | 'orderId' | 'refundOf' | 'expiresAt'>,
  ): Promise<CounterTransactionRow> {
    const rows = await constrained(() => this.db.$queryRaw<CounterTransactionRow[]>`
      INSERT INTO counter_transactions AS t (id, location_id, idempotency_key, request_hash, kind, tid, amount, amount_cashback, currency, order_id, refund_of, expires_at)
      VALUES (${row.id}::uuid, ${row.locationId}::uuid, ${row.idempotencyKey}, ${row.requestHash}, ${row.kind}, ${row.tid}, ${row.amount}::bigint,
        ${row.amountCashback}::bigint, ${row.currency}, ${row.orderId}, ${row.refundOf}::uuid, ${row.expiresAt.toISOString()}::timestamptz)
      RETURNING ${COLUMNS}`);
    return rows[0]!;
  }

  /**
   * Whether takeWork has anything to do (one cheap read on the polling path):
   * an accepted command, a cancel due (CANCEL_DUE), or a transaction on the
   * terminal that the caller does not track.
   */
  async hasWork(locationId: string, owner: { fence: number; replicaId: string }, inFlight: readonly string[]): Promise<boolean> {
    const keep = inFlight.filter(isUuid);
    const rows = await this.db.$queryRaw<{ n: number }[]>`
      SELECT 1 AS n FROM counter_transactions
      WHERE location_id = ${locationId}::uuid AND state IN ${OPEN_STATES}
        AND (state = 'accepted' OR (state = 'cancel_requested' AND ${CANCEL_DUE})
             OR (NOT (id = ANY(${keep}::uuid[]))
                 AND (fence IS NULL OR fence < ${owner.fence}::bigint OR (fence = ${owner.fence}::bigint AND sent_by = ${owner.replicaId})
                      OR updated_at < now() - ${STALE_CLAIM}::interval)))
      LIMIT 1`;
    return rows.length > 0;
  }

  /** Accepted commands past their expiry: failed not_sent (returned). */
  failExpired(locationId: string): Promise<ClaimedCounterRow[]> {
    return this.db.$queryRaw<ClaimedCounterRow[]>`
      UPDATE counter_transactions t
      SET state = 'failed', failure = 'not_sent', message = 'no gateway sent it to the terminal in time', finished_at = now(), updated_at = now()
      FROM (SELECT id, state FROM counter_transactions WHERE location_id = ${locationId}::uuid AND state = 'accepted' AND expires_at <= now() FOR UPDATE) o
      WHERE t.id = o.id AND t.state = 'accepted'
      RETURNING ${COLUMNS}, o.state AS "previousState"`;
  }

  /**
   * Transactions on the terminal that the caller is not tracking (not in
   * `inFlight`): moved to recovering and claimed for `owner` (the caller asks
   * the terminal with `duplicate`). Only from an older fence (the previous
   * owner), from the caller itself (its socket dropped), or from a claim
   * nobody has touched for STALE_CLAIM (a lost fencing counter): a replica
   * that lost its lease never takes a transaction back from the new owner.
   */
  claimLost(locationId: string, owner: { fence: number; replicaId: string }, inFlight: readonly string[]): Promise<ClaimedCounterRow[]> {
    const keep = inFlight.filter(isUuid);
    return this.db.$queryRaw<ClaimedCounterRow[]>`
      UPDATE counter_transactions t
      SET state = 'recovering', fence = ${owner.fence}::bigint, sent_by = ${owner.replicaId}, updated_at = now()
      FROM (SELECT id, state FROM counter_transactions
            WHERE location_id = ${locationId}::uuid AND state IN ${ON_TERMINAL} AND NOT (id = ANY(${keep}::uuid[]))
            ORDER BY created_at, id FOR UPDATE) o
      WHERE t.id = o.id AND t.state IN ${ON_TERMINAL}
        AND (t.fence IS NULL OR t.fence < ${owner.fence}::bigint OR (t.fence = ${owner.fence}::bigint AND t.sent_by = ${owner.replicaId})
             OR t.updated_at < now() - ${STALE_CLAIM}::interval)
      RETURNING ${COLUMNS}, o.state AS "previousState"`;
  }

  /**
   * Cancels asked by the POS and not sent yet, or sent 10 s ago while the transaction still runs (CANCEL_DUE): marked
   * sent and returned. Sending is not confirmed back, so a cancel whose write was lost (the socket closing, a replica
   * losing the venue) is sent again rather than never; a cancel_requested transaction is still the one on its
   * terminal (nothing else is sent to a terminal until it ends), so a repeated cancelTransaction can only stop it.
   */
  claimCancels(locationId: string): Promise<ClaimedCounterRow[]> {
    return this.db.$queryRaw<ClaimedCounterRow[]>`
      UPDATE counter_transactions t SET cancel_sent_at = now(), updated_at = now()
      FROM (SELECT id, state FROM counter_transactions
            WHERE location_id = ${locationId}::uuid AND state = 'cancel_requested'
              AND ${CANCEL_DUE} FOR UPDATE) o
      WHERE t.id = o.id AND t.state = 'cancel_requested'
      RETURNING ${COLUMNS}, o.state AS "previousState"`;
  }

  /**
   * The oldest accepted command of each terminal with nothing on it, moved to
   * sent for `owner`. A terminal whose oldest accepted command has expired
   * gets nothing this time (failExpired runs first in the same transaction).
   */
  claimSends(locationId: string, owner: { fence: number; replicaId: string }): Promise<ClaimedCounterRow[]> {
    return this.db.$queryRaw<ClaimedCounterRow[]>`
      UPDATE counter_transactions t
      SET state = 'sent', fence = ${owner.fence}::bigint, sent_by = ${owner.replicaId}, sent_at = now(), updated_at = now()
      FROM (
        SELECT DISTINCT ON (a.tid) a.id, a.state FROM counter_transactions a
        WHERE a.location_id = ${locationId}::uuid AND a.state = 'accepted'
          AND NOT EXISTS (SELECT 1 FROM counter_transactions b WHERE b.location_id = a.location_id AND b.tid = a.tid AND b.state IN ${ON_TERMINAL})
        ORDER BY a.tid, a.created_at, a.id
      ) o
      WHERE t.id = o.id AND t.state = 'accepted' AND t.expires_at > now()
      RETURNING ${COLUMNS}, o.state AS "previousState"`;
  }

  /**
   * The POS's cancel: accepted -> failed cancelled_before_sending, sent -> cancel_requested, recovering -> failed
   * outcome_unknown (the recovery stops; a later recovered outcome finds it settled). Null when the state moved meanwhile.
   */
  async cancel(locationId: string, id: string, from: 'accepted' | 'sent' | 'recovering'): Promise<CounterTransactionRow | null> {
    const rows =
      from === 'recovering'
        ? await this.db.$queryRaw<CounterTransactionRow[]>`
            UPDATE counter_transactions t SET state = 'failed', failure = 'outcome_unknown', message = ${RECOVERY_STOPPED},
              cancel_requested_at = now(), finished_at = now(), updated_at = now()
            WHERE t.location_id = ${locationId}::uuid AND t.id = ${id}::uuid AND t.state = 'recovering'
            RETURNING ${COLUMNS}`
        : from === 'accepted'
        ? await this.db.$queryRaw<CounterTransactionRow[]>`
            UPDATE counter_transactions t SET state = 'failed', failure = 'cancelled_before_sending', message = 'cancelled by the POS before it was sent',
              cancel_requested_at = now(), finished_at = now(), updated_at = now()
            WHERE t.location_id = ${locationId}::uuid AND t.id = ${id}::uuid AND t.state = 'accepted'
            RETURNING ${COLUMNS}`
        : await this.db.$queryRaw<CounterTransactionRow[]>`
            UPDATE counter_transactions t SET state = 'cancel_requested', cancel_requested_at = now(), updated_at = now()
            WHERE t.location_id = ${locationId}::uuid AND t.id = ${id}::uuid AND t.state = 'sent'
            RETURNING ${COLUMNS}`;
    return rows[0] ?? null;
  }

  /**
   * Records the venue's resolution of a failed outcome_unknown transaction (a row locked with lockForSettle), once:
   * null when it is not one, or was resolved before.
   */
  async resolve(locationId: string, id: string, resolution: CounterResolution, paymentId: string | null, message: string): Promise<CounterTransactionRow | null> {
    const rows = await this.db.$queryRaw<CounterTransactionRow[]>`
      UPDATE counter_transactions t
      SET resolution = ${resolution}, resolved_at = now(), payment_id = ${paymentId}, message = ${message}, updated_at = now()
      WHERE t.location_id = ${locationId}::uuid AND t.id = ${id}::uuid AND t.state = 'failed' AND t.failure = 'outcome_unknown' AND t.resolution IS NULL
      RETURNING ${COLUMNS}`;
    return rows[0] ?? null;
  }

  /** Settles a row locked with lockForSettle (still open): finished or failed, once. */
  async settle(
    locationId: string,
    id: string,
    s: { state: 'finished' | 'failed'; result?: string; failure?: CounterFailure; message?: string | null; outcome?: unknown; paymentId?: string | null },
  ): Promise<CounterTransactionRow | null> {
    const rows = await this.db.$queryRaw<CounterTransactionRow[]>`
      UPDATE counter_transactions t
      SET state = ${s.state}, result = ${s.result ?? null}, failure = ${s.failure ?? null}, message = ${s.message ?? null},
        outcome = ${s.outcome === undefined ? null : jsonText(s.outcome)}::jsonb, payment_id = ${s.paymentId ?? null},
        finished_at = now(), updated_at = now()
      WHERE t.location_id = ${locationId}::uuid AND t.id = ${id}::uuid AND t.state IN ${OPEN_STATES}
      RETURNING ${COLUMNS}`;
    return rows[0] ?? null;
  }

  // ---- events ----

  /**
   * Stores events (in the caller's transaction, if any) and returns them as
   * stored; with `lastNotification`, that transaction's last notification is
   * set in the same statement.
   */
  async appendEvents(locationId: string, events: readonly NewCounterEvent[], lastNotification?: { transactionId: string; value: string }): Promise<CounterEventRow[]> {
    if (events.length === 0) return [];
    const values = events.map(
      (e) => Prisma.sql`(${locationId}::uuid, ${e.transactionId ?? null}::uuid, ${e.tid ?? null}, ${e.type}, ${jsonText(e.data)}::jsonb)`,
    );
    const note = lastNotification
      ? Prisma.sql`, note AS (UPDATE counter_transactions SET last_notification = ${lastNotification.value}, updated_at = now()
          WHERE location_id = ${locationId}::uuid AND id = ${lastNotification.transactionId}::uuid RETURNING 1)`
      : Prisma.empty;
    return this.db.$queryRaw<CounterEventRow[]>`
      WITH ins AS (
        INSERT INTO counter_events (location_id, transaction_id, tid, type, data) VALUES ${Prisma.join(values)}
        RETURNING id, tx_id, location_id, transaction_id, tid, type, data, created_at
      )${note}
      SELECT ${EVENT_COLUMNS} FROM ins e ORDER BY e.id`;
  }

  /** A transaction's events, oldest first. */
  eventsOf(locationId: string, transactionId: string): Promise<CounterEventRow[]> {
    return this.db.$queryRaw<CounterEventRow[]>`
      SELECT ${EVENT_COLUMNS} FROM counter_events e
      WHERE e.location_id = ${locationId}::uuid AND e.transaction_id = ${transactionId}::uuid ORDER BY e.tx_id, e.id`;
  }

  /** Whether the transaction has an event of this type. */
  async hasEvent(locationId: string, transactionId: string, type: CounterEventType): Promise<boolean> {
    const rows = await this.db.$queryRaw<{ n: number }[]>`
      SELECT 1 AS n FROM counter_events WHERE location_id = ${locationId}::uuid AND transaction_id = ${transactionId}::uuid AND type = ${type} LIMIT 1`;
    return rows.length > 0;
  }

  /**
   * Where a stream opened now starts: the newest readable event's cursor (below the snapshot's xmin: every event
   * committed later sorts after it), and the ids of the events above it that are already committed (visible to
   * this statement while an older transaction of the cluster still runs). Those happened before the stream
   * opened, so it must not deliver them when the cursor moves past them. At most 1,000 of them.
   */
  async head(locationId: string): Promise<{ cursor: { tx: bigint; id: bigint } | null; seen: { tx: bigint; id: bigint }[] }> {
    const rows = await this.db.$queryRaw<{ tx: bigint; id: bigint; seen: boolean }[]>`
      WITH s AS (SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS xmin)
      (SELECT tx_id AS tx, id, false AS seen FROM counter_events, s
        WHERE location_id = ${locationId}::uuid AND tx_id < s.xmin ORDER BY tx_id DESC, id DESC LIMIT 1)
      UNION ALL
      (SELECT tx_id AS tx, id, true AS seen FROM counter_events, s
        WHERE location_id = ${locationId}::uuid AND tx_id >= s.xmin ORDER BY tx_id, id LIMIT 1000)`;
    const at = rows.find((r) => !r.seen);
    return { cursor: at ? { tx: at.tx, id: at.id } : null, seen: rows.filter((r) => r.seen).map((r) => ({ tx: r.tx, id: r.id })) };
  }

  /**
   * Events after the cursor (tx_id, id), in (tx_id, id) order, only of
   * transactions below the reading snapshot's xmin (all finished), so a
   * reader moving its cursor never skips a late commit (as the venue feed).
   */
  eventsAfter(locationId: string, after: { tx: bigint; id: bigint }, limit: number): Promise<CounterEventRow[]> {
    return this.db.$queryRaw<CounterEventRow[]>`
      SELECT ${EVENT_COLUMNS} FROM counter_events e
      WHERE e.location_id = ${locationId}::uuid
        AND e.tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
        AND (e.tx_id, e.id) > (${after.tx}::bigint, ${after.id}::bigint)
      ORDER BY e.tx_id, e.id
      LIMIT ${limit}`;
  }
}

export const counterRepo = (db: Tx) => new CounterRepository(db);
