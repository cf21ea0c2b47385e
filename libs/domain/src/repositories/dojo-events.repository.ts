import { randomUUID } from 'node:crypto';
import type { DojoEventFacts, DojoEventPayload } from '@app/contracts';
import { TIED_RANK_STATUSES } from '@app/contracts';
import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';
import { batchRowsSql, deleteBatch } from './retention-sql';
import { sqlTxOf } from './sql-tx';

export type DojoEventRow = Prisma.DojoEventModel;

/** Every column of dojo_events under its model field name, as Prisma's model calls return a row. */
const EVENT_COLUMNS = Prisma.raw(`id::text AS id, location_id::text AS "locationId", dojo_account_id AS "dojoAccountId", event_id AS "eventId",
  event_type AS "eventType", payment_intent_id AS "paymentIntentId", payment_status AS "paymentStatus", capture_mode AS "captureMode",
  occurred_at AS "occurredAt", channel, deliveries, payload, state::text AS state, received_at AS "receivedAt", applied_at AS "appliedAt",
  attempts, last_error AS "lastError", last_failed_at AS "lastFailedAt", dead_at AS "deadAt", discarded_at AS "discardedAt",
  discard_reason AS "discardReason"`);

export interface StoredDojoEvent {
  id: string;
  /** False when the (account, event id) was already stored: only its delivery count moved. */
  inserted: boolean;
  state: string;
}

/** One store() call's arguments, for storeMany. */
export interface StoreItem {
  locationId: string;
  payload: DojoEventPayload;
  channel: 'webhook' | 'socket' | 'reconciler';
  occurred: Date;
}

export interface DojoEventHead extends DojoEventFacts {
  state: string;
}

/** Raised when the event row to lock is not there (lockAndRead). */
export class DojoEventGone extends Error {}

/**
 * Where the sweeper's look at 'pending_payment' rows stopped: the last row of its previous slice, and the end of
 * the round it belongs to (rows received from `before` on wait for the next round).
 */
export interface PendingCursor {
  receivedAt: Date;
  id: string;
  before: Date;
}

/** An optional string field of an event as its column keeps it (absent or empty: NULL). */
const columnText = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);

/** The facts a row stored from `payload` for `locationId` holds (store, storeMany), known without reading it back. */
export function dojoEventFactsOf(locationId: string, payload: DojoEventPayload): DojoEventFacts {
  const data = payload.data ?? {};
  return { locationId, paymentIntentId: columnText(data.paymentIntentId), paymentStatus: columnText(data.paymentStatus) };
}

/**
 * dojo_events: the Dojo events a location received (webhook or socket), their
 * apply states (received → applied | pending_payment, dead/discarded through
 * the dead letters repository). Methods take the location id first; the
 * exceptions work from a row id alone (the events queue carries only that) or
 * sweep every location, and say so in their names.
 */
export class DojoEventsRepository {
  constructor(private readonly db: Tx) {}

  /**
   * Stores an event once per (account, event id), a repeat only counts a delivery.
   * Undefined when the payload's account is not this location's.
   */
  async store(locationId: string, payload: DojoEventPayload, channel: 'webhook' | 'socket' | 'reconciler', occurred: Date): Promise<StoredDojoEvent | undefined> {
    const data = payload.data ?? {};
    const rows = await this.db.$queryRaw<StoredDojoEvent[]>`
      INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, payment_intent_id,
                               payment_status, capture_mode, occurred_at, channel, deliveries, payload, state, received_at)
      SELECT ${randomUUID()}::uuid, l.id, l.dojo_account_id, ${payload.id}, ${payload.event}, ${columnText(data.paymentIntentId)},
             ${columnText(data.paymentStatus)}, ${columnText(data.captureMode)}, ${occurred.toISOString()}::timestamptz, ${channel}, 1,
             ${JSON.stringify(payload)}::jsonb, 'received', now()
        FROM locations l
       WHERE l.id = ${locationId}::uuid AND l.dojo_account_id = ${payload.accountId}
      ON CONFLICT (dojo_account_id, event_id) DO UPDATE SET deliveries = dojo_events.deliveries + 1
      RETURNING id::text AS id, (xmax = 0) AS inserted, state::text AS state`;
    return rows[0];
  }

  /**
   * Stores several events with the effect of store() called once per item in the order given,
   * in at most two statements for the whole batch (a commit, so a WAL flush, each):
   * 1. the new events, inserted in key order with ON CONFLICT DO NOTHING: it locks only rows
   *    it creates, so it cannot deadlock with a transaction holding existing rows (the events
   *    worker, a payment applying its pending events);
   * 2. the repeats (events already stored): their delivery counts, in one UPDATE of the rows it
   *    can lock at once (SKIP LOCKED), so it never waits while holding other rows.
   * Items with the same location, account and event id are folded into one row whose
   * deliveries count them all; only the first of them can be `inserted`. One result per item:
   * null for a repeat whose row is locked (being applied) and for an item whose account is not
   * its location's, which the caller stores with store() on its own (waiting, if it must, while
   * holding nothing).
   */
  async storeMany(items: readonly StoreItem[]): Promise<(StoredDojoEvent | null)[]> {
    const key = (locationId: string, accountId: string, eventId: string) => `${locationId}\u0000${accountId}\u0000${eventId}`;
    const groups = new Map<string, { item: StoreItem; n: number; members: number[]; row?: StoredDojoEvent; fresh?: boolean }>();
    items.forEach((item, i) => {
      const k = key(item.locationId, item.payload.accountId, item.payload.id);
      const g = groups.get(k);
      if (g) {
        g.n++;
        g.members.push(i);
      } else groups.set(k, { item, n: 1, members: [i] });
    });
    const cols = {
      id: [] as string[], location: [] as string[], account: [] as string[], event: [] as string[], type: [] as string[],
      intent: [] as (string | null)[], status: [] as (string | null)[], capture: [] as (string | null)[], occurred: [] as string[],
      channel: [] as string[], n: [] as number[], payload: [] as string[],
    };
    for (const { item, n } of groups.values()) {
      const data = item.payload.data ?? {};
      cols.id.push(randomUUID());
      cols.location.push(item.locationId);
      cols.account.push(item.payload.accountId);
      cols.event.push(item.payload.id);
      cols.type.push(item.payload.event);
      cols.intent.push(columnText(data.paymentIntentId));
      cols.status.push(columnText(data.paymentStatus));
      cols.capture.push(columnText(data.captureMode));
      cols.occurred.push(item.occurred.toISOString());
      cols.channel.push(item.channel);
      cols.n.push(n);
      cols.payload.push(JSON.stringify(item.payload));
    }
    type Returned = StoredDojoEvent & { locationId: string; accountId: string; eventId: string };
    const inserted = await this.db.$queryRaw<Returned[]>`
      INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, payment_intent_id,
                               payment_status, capture_mode, occurred_at, channel, deliveries, payload, state, received_at)
      SELECT b.id, l.id, l.dojo_account_id, b.event_id, b.event_type, b.payment_intent_id,
             b.payment_status, b.capture_mode, b.occurred_at, b.channel, b.n, b.payload, 'received', now()
        FROM unnest(${cols.id}::uuid[], ${cols.location}::uuid[], ${cols.account}::text[], ${cols.event}::text[], ${cols.type}::text[],
                    ${cols.intent}::text[], ${cols.status}::text[], ${cols.capture}::text[], ${cols.occurred}::timestamptz[],
                    ${cols.channel}::text[], ${cols.n}::int[], ${cols.payload}::jsonb[])
             AS b(id, location_id, dojo_account_id, event_id, event_type, payment_intent_id, payment_status, capture_mode,
                  occurred_at, channel, n, payload)
        JOIN locations l ON l.id = b.location_id AND l.dojo_account_id = b.dojo_account_id
       ORDER BY b.dojo_account_id, b.event_id
      ON CONFLICT (dojo_account_id, event_id) DO NOTHING
      RETURNING id::text AS id, true AS inserted, state::text AS state,
                location_id::text AS "locationId", dojo_account_id AS "accountId", event_id AS "eventId"`;
    for (const r of inserted) {
      const g = groups.get(key(r.locationId, r.accountId, r.eventId));
      if (g) Object.assign(g, { row: r, fresh: true });
    }
    const repeats = [...groups.values()].filter((g) => !g.row);
    // The new events are committed: from here a failure must not fail them (their callers would store them again).
    // The repeats travel as one jsonb array rather than as arrays: Postgres sees an array parameter's length when it
    // plans for the values given and not in the plan it keeps, so with arrays the kept plan always looked dearer and
    // the statement was planned anew on every call (0.3 ms, more than it takes to run); jsonb_to_recordset's row
    // estimate is the same either way, so after five calls the kept plan is used.
    const countRepeats = async (): Promise<Returned[]> => {
      if (repeats.length === 0) return [];
      const rows = JSON.stringify(repeats.map((g) => ({ location_id: g.item.locationId, dojo_account_id: g.item.payload.accountId, event_id: g.item.payload.id, n: g.n })));
      return this.db.$queryRaw<Returned[]>`
        UPDATE dojo_events e SET deliveries = e.deliveries + b.n
          FROM (SELECT d.id, r.n FROM jsonb_to_recordset(${rows}::jsonb) AS r(location_id uuid, dojo_account_id text, event_id text, n int)
                  JOIN dojo_events d ON d.dojo_account_id = r.dojo_account_id AND d.event_id = r.event_id AND d.location_id = r.location_id
                 ORDER BY d.dojo_account_id, d.event_id
                   FOR UPDATE OF d SKIP LOCKED) b
         WHERE e.id = b.id
        RETURNING e.id::text AS id, false AS inserted, e.state::text AS state,
                  e.location_id::text AS "locationId", e.dojo_account_id AS "accountId", e.event_id AS "eventId"`;
    };
    // A failed count leaves the repeats undecided (null below): each is stored alone, and its own error reaches its caller.
    const updated = await countRepeats().catch((): Returned[] => []);
    for (const r of updated) {
      const g = groups.get(key(r.locationId, r.accountId, r.eventId));
      if (g) g.row = r;
    }
    // null: locked by a transaction applying it, or not this location's account; store() decides it alone.
    const out: (StoredDojoEvent | null)[] = new Array<StoredDojoEvent | null>(items.length).fill(null);
    for (const g of groups.values()) {
      const row = g.row;
      if (row) g.members.forEach((i, k) => (out[i] = { id: row.id, inserted: g.fresh === true && k === 0, state: row.state }));
    }
    return out;
  }

  /**
   * Across all locations: rows 'received' for longer than staleMs (a failed one only after staleMs doubled per
   * attempt, at most maxBackoffMs, since its last failure), at most `limit`; and, of the next `pending.slice`
   * 'pending_payment' rows after `pending.after` (oldest first), those whose payment now exists, or whose intent
   * turned out to be an online one of ours (it arrived before the venue API stored Dojo's id; it applies without a
   * payment). The pending rows are looked at a slice per call, so a pass costs the same however many wait (events
   * for intents this EPOS never records wait for ever); `nextPending` is where the next slice starts (null: the
   * round is over, start again from the oldest). A round covers the rows received before it began, so rows
   * arriving faster than the slices go do not keep it from ending and coming back to the oldest.
   *
   * `queue.oldestJobAt` (when the oldest job still in the events queue was added) measures the 'received' rows'
   * staleness against the queue rather than the clock: a row stored within staleMs of it, or after it, may still be
   * in a job on its way (the queue lags) and is left alone, unless it was received more than `queue.maxHoldMs` ago.
   */
  async findStrandedAcrossLocations(
    staleMs: number,
    maxBackoffMs: number,
    limit: number,
    pending: { after: PendingCursor | null; slice: number },
    queue?: { oldestJobAt: Date | null; maxHoldMs: number },
  ): Promise<{ ids: string[]; nextPending: PendingCursor | null }> {
    const oldestJobAt = queue?.oldestJobAt ?? null;
    const holdMs = Math.max(staleMs, queue?.maxHoldMs ?? staleMs);
    const after = pending.after ?? { receivedAt: new Date(0), id: '00000000-0000-0000-0000-000000000000', before: null };
    const rows = await this.db.$queryRaw<Array<{ kind: string; id: string; at: Date | null; before: Date | null }>>`
      WITH round AS MATERIALIZED (
        SELECT coalesce(${after.before}::timestamptz, now() - make_interval(secs => ${staleMs / 1000}::float8)) AS before),
      slice AS MATERIALIZED (
        SELECT id, location_id, payment_intent_id, received_at FROM dojo_events
         WHERE state = 'pending_payment' AND received_at < (SELECT before FROM round)
           AND received_at >= ${after.receivedAt}::timestamptz AND (received_at, id) > (${after.receivedAt}::timestamptz, ${after.id}::uuid)
         ORDER BY received_at, id LIMIT ${pending.slice})
      (SELECT 'received' AS kind, id::text AS id, NULL::timestamptz AS at, NULL::timestamptz AS before FROM dojo_events
        WHERE state = 'received'
          AND received_at < greatest(least(now(), coalesce(${oldestJobAt}::timestamptz, now())) - make_interval(secs => ${staleMs / 1000}::float8),
                                     now() - make_interval(secs => ${holdMs / 1000}::float8))
          AND (last_failed_at IS NULL OR last_failed_at < now() - make_interval(
                secs => least(${staleMs / 1000}::float8 * power(2, least(attempts, 20)), ${maxBackoffMs / 1000}::float8)))
        ORDER BY received_at LIMIT ${limit})
      UNION ALL
      (SELECT 'paid', s.id::text, NULL, NULL FROM slice s
         JOIN payments p ON p.location_id = s.location_id AND p.payment_intent_id = s.payment_intent_id
        LIMIT ${limit})
      UNION ALL
      (SELECT 'online', s.id::text, NULL, NULL FROM slice s
         JOIN payment_intents i ON i.location_id = s.location_id AND i.payment_intent_id = s.payment_intent_id
        WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.location_id = s.location_id AND p.payment_intent_id = s.payment_intent_id)
        LIMIT ${limit})
      UNION ALL
      (SELECT 'last', s.id::text, s.received_at, (SELECT before FROM round) FROM slice s
        WHERE (SELECT count(*) FROM slice) = ${pending.slice}
        ORDER BY s.received_at DESC, s.id DESC LIMIT 1)`;
    const last = rows.find((r) => r.kind === 'last');
    return {
      ids: rows.filter((r) => r.kind !== 'last').map((r) => r.id),
      nextPending: last ? { receivedAt: last.at!, id: last.id, before: last.before! } : null,
    };
  }

  /** By row id alone (the events queue's job): where the row belongs and its state, unlocked. */
  async findHeadByRowId(eventRowId: string): Promise<DojoEventHead | null> {
    const rows = await this.db.$queryRaw<DojoEventHead[]>`
      SELECT location_id::text AS "locationId", payment_intent_id AS "paymentIntentId", payment_status AS "paymentStatus", state::text AS state
        FROM dojo_events WHERE id = ${eventRowId}::uuid`;
    return rows[0] ?? null;
  }

  /** Locks the row (FOR UPDATE, to the end of the transaction) and reads it; throws when it is gone. */
  async lockAndRead(locationId: string, eventRowId: string): Promise<DojoEventRow> {
    return DojoEventsRepository.lockedRow(locationId, eventRowId, await this.db.$queryRaw<DojoEventRow[]>(DojoEventsRepository.lockAndReadSql(locationId, eventRowId)));
  }

  /** lockAndRead's statement, for a caller that sends it together with others (event-effects lockAndLoadEvents). */
  static lockAndReadSql(locationId: string, eventRowId: string): Prisma.Sql {
    return Prisma.sql`
      SELECT ${EVENT_COLUMNS} FROM dojo_events
       WHERE id = ${eventRowId}::uuid AND location_id = ${locationId}::uuid FOR UPDATE`;
  }

  /** lockAndReadSql's answer: the row, or an error when it is gone. */
  static lockedRow(locationId: string, eventRowId: string, rows: DojoEventRow[]): DojoEventRow {
    if (!rows[0]) throw new DojoEventGone(`dojo event ${eventRowId} of location ${locationId} does not exist`);
    return rows[0];
  }

  /** Locks and reads the intent's events waiting for its payment, oldest first. */
  lockPendingForIntent(locationId: string, paymentIntentId: string): Promise<DojoEventRow[]> {
    return this.db.$queryRaw<DojoEventRow[]>`
      SELECT ${EVENT_COLUMNS} FROM dojo_events
       WHERE location_id = ${locationId}::uuid AND payment_intent_id = ${paymentIntentId} AND state = 'pending_payment'
       ORDER BY occurred_at, event_id
         FOR UPDATE`;
  }

  /**
   * Retention: up to `limit` events received and applied before `before` deleted; how many. A delivery of one of
   * them after that is stored and applied again (an event's effects are forward-only and idempotent: the payment
   * is recorded once, a status never moves back, refunds are Dojo's cumulative amounts). An intent's latest applied
   * event of a status that shares its rank with another (TIED_RANK_STATUSES: Reversed, Canceled) stays: it decides
   * between the two (lastAppliedWithStatus, read only then), so an older Canceled replayed or redelivered later never
   * overturns the Reversed applied after it. Every other status is decided by rank alone and its events go.
   */
  deleteAppliedBefore(before: Date, limit: number): Promise<number> {
    return deleteBatch(
      this.db,
      'dojo_events',
      Prisma.sql`state = 'applied' AND received_at < ${before} AND applied_at < ${before}
        AND (payment_status IS NULL OR payment_status <> ALL(${[...TIED_RANK_STATUSES]}::text[]) OR EXISTS (
          SELECT 1 FROM dojo_events later
           WHERE later.location_id = dojo_events.location_id AND later.payment_intent_id IS NOT DISTINCT FROM dojo_events.payment_intent_id
             AND later.state = 'applied' AND later.payment_status = dojo_events.payment_status
             AND (later.occurred_at, later.event_id) > (dojo_events.occurred_at, dojo_events.event_id)))`,
      limit,
    );
  }

  /** Retention: up to `limit` events discarded before `before` deleted (dead letters never); how many. */
  deleteDiscardedBefore(before: Date, limit: number): Promise<number> {
    return deleteBatch(this.db, 'dojo_events', Prisma.sql`state = 'discarded' AND discarded_at < ${before}`, limit);
  }

  /**
   * Retention: up to `limit` events received before `before` and still waiting for their payment
   * ('pending_payment') are discarded with `reason`; how many. Rows being applied right now (their payment just
   * recorded) are skipped. A discarded row is kept for audit until deleteDiscardedBefore and is final: it is not a
   * dead letter (most are events of payments taken elsewhere on the Dojo account, not failures, so listing them
   * would bury real dead letters and keep them for ever), a replay answers 409, and a payment recorded later does
   * not apply it.
   */
  discardPendingPaymentBefore(before: Date, limit: number, reason: string): Promise<number> {
    return this.db.$executeRaw`
      UPDATE dojo_events SET state = 'discarded', discarded_at = now(), discard_reason = ${reason}
       WHERE ${batchRowsSql('dojo_events', Prisma.sql`state = 'pending_payment' AND received_at < ${before}`, limit)}`;
  }

  /** The latest applied event of the intent that set `status` (occurredAt, then event id). */
  async lastAppliedWithStatus(locationId: string, paymentIntentId: string | null, status: string): Promise<{ occurredAt: Date; eventId: string } | null> {
    const rows = await this.db.$queryRaw<{ occurredAt: Date; eventId: string }[]>`
      SELECT occurred_at AS "occurredAt", event_id AS "eventId" FROM dojo_events
       WHERE location_id = ${locationId}::uuid AND ${paymentIntentId === null ? Prisma.sql`payment_intent_id IS NULL` : Prisma.sql`payment_intent_id = ${paymentIntentId}`}
         AND state = 'applied' AND payment_status = ${status}
       ORDER BY occurred_at DESC, event_id DESC LIMIT 1`;
    return rows[0] ?? null;
  }

  /**
   * The row's move to 'applied' as a CTE, for runWrites to send in one
   * statement with the venue feed entry that reports it (event-effects).
   */
  static markAppliedCte(name: string, locationId: string, eventRowId: string): Prisma.Sql {
    return Prisma.sql`${Prisma.raw(name)} AS (UPDATE dojo_events SET state = 'applied', applied_at = now()
      WHERE id = ${eventRowId}::uuid AND location_id = ${locationId}::uuid)`;
  }

  /**
   * Marks the row as waiting for its payment. In a planned transaction on pg
   * (sql-tx.ts) the write is held to go out with COMMIT or the next
   * statement, in that round trip: nothing reads its outcome, and its
   * failure fails the transaction either way.
   */
  async markPendingPayment(locationId: string, eventRowId: string): Promise<void> {
    const statement = Prisma.sql`
      UPDATE dojo_events SET state = 'pending_payment' WHERE id = ${eventRowId}::uuid AND location_id = ${locationId}::uuid`;
    const tx = sqlTxOf(this.db);
    if (tx) return tx.executeWithCommit(statement);
    await this.db.$executeRaw(statement);
  }
}

export const dojoEventsRepo = (db: Tx) => new DojoEventsRepository(db);
