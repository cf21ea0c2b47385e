import { randomUUID } from 'node:crypto';
import type { DojoEventPayload } from '@app/contracts';
import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';

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

export interface DojoEventHead {
  locationId: string;
  paymentIntentId: string | null;
  paymentStatus: string | null;
  state: string;
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
    const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
    const rows = await this.db.$queryRaw<StoredDojoEvent[]>`
      INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, payment_intent_id,
                               payment_status, capture_mode, occurred_at, channel, deliveries, payload, state, received_at)
      SELECT ${randomUUID()}::uuid, l.id, l.dojo_account_id, ${payload.id}, ${payload.event}, ${text(data.paymentIntentId)},
             ${text(data.paymentStatus)}, ${text(data.captureMode)}, ${occurred.toISOString()}::timestamptz, ${channel}, 1,
             ${JSON.stringify(payload)}::jsonb, 'received', now()
        FROM locations l
       WHERE l.id = ${locationId}::uuid AND l.dojo_account_id = ${payload.accountId}
      ON CONFLICT (dojo_account_id, event_id) DO UPDATE SET deliveries = dojo_events.deliveries + 1
      RETURNING id::text AS id, (xmax = 0) AS inserted, state::text AS state`;
    return rows[0];
  }

  /**
   * Stores several events in one statement (one commit, so one WAL flush for all of them): the
   * same effect as store() called once per item in the order given. Items with the same
   * (account, event id) are folded into one row whose deliveries count them all; only the first
   * of them can be `inserted`. The rows are written in key order, so two batches touching the
   * same keys lock them in the same order. One result per item, undefined where the item's
   * account is not its location's.
   */
  async storeMany(items: readonly StoreItem[]): Promise<(StoredDojoEvent | undefined)[]> {
    const groups = new Map<string, { item: StoreItem; n: number; members: number[] }>();
    items.forEach((item, i) => {
      const key = `${item.locationId}\u0000${item.payload.accountId}\u0000${item.payload.id}`;
      const g = groups.get(key);
      if (g) {
        g.n++;
        g.members.push(i);
      } else groups.set(key, { item, n: 1, members: [i] });
    });
    const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
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
      cols.intent.push(text(data.paymentIntentId));
      cols.status.push(text(data.paymentStatus));
      cols.capture.push(text(data.captureMode));
      cols.occurred.push(item.occurred.toISOString());
      cols.channel.push(item.channel);
      cols.n.push(n);
      cols.payload.push(JSON.stringify(item.payload));
    }
    const rows = await this.db.$queryRaw<Array<StoredDojoEvent & { locationId: string; accountId: string; eventId: string }>>`
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
      ON CONFLICT (dojo_account_id, event_id) DO UPDATE SET deliveries = dojo_events.deliveries + EXCLUDED.deliveries
      RETURNING id::text AS id, (xmax = 0) AS inserted, state::text AS state, location_id::text AS "locationId", dojo_account_id AS "accountId", event_id AS "eventId"`;
    const byKey = new Map(rows.map((r) => [`${r.locationId}\u0000${r.accountId}\u0000${r.eventId}`, r]));
    const out: (StoredDojoEvent | undefined)[] = new Array<StoredDojoEvent | undefined>(items.length);
    for (const { item, members } of groups.values()) {
      const row = byKey.get(`${item.locationId}\u0000${item.payload.accountId}\u0000${item.payload.id}`);
      members.forEach((i, k) => {
        out[i] = row && { id: row.id, inserted: row.inserted && k === 0, state: row.state };
      });
    }
    return out;
  }

  /**
   * Across all locations: rows 'received' for longer than staleMs (a failed one only after
   * staleMs doubled per attempt, at most maxBackoffMs, since its last failure), and
   * 'pending_payment' rows whose payment now exists, or whose intent turned out to be an online
   * one of ours (it arrived before the venue API stored Dojo's id; it applies without a payment).
   * At most `limit` of each.
   */
  async findStrandedAcrossLocations(staleMs: number, maxBackoffMs: number, limit: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<Array<{ id: string }>>`
      (SELECT id::text AS id FROM dojo_events
        WHERE state = 'received' AND received_at < now() - make_interval(secs => ${staleMs / 1000}::float8)
          AND (last_failed_at IS NULL OR last_failed_at < now() - make_interval(
                secs => least(${staleMs / 1000}::float8 * power(2, least(attempts, 20)), ${maxBackoffMs / 1000}::float8)))
        ORDER BY received_at LIMIT ${limit})
      UNION ALL
      (SELECT e.id::text AS id FROM dojo_events e
         JOIN payments p ON p.location_id = e.location_id AND p.payment_intent_id = e.payment_intent_id
        WHERE e.state = 'pending_payment' AND e.received_at < now() - make_interval(secs => ${staleMs / 1000}::float8)
        LIMIT ${limit})
      UNION ALL
      (SELECT e.id::text AS id FROM dojo_events e
         JOIN payment_intents i ON i.location_id = e.location_id AND i.payment_intent_id = e.payment_intent_id
        WHERE e.state = 'pending_payment' AND e.received_at < now() - make_interval(secs => ${staleMs / 1000}::float8)
          AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.location_id = e.location_id AND p.payment_intent_id = e.payment_intent_id)
        LIMIT ${limit})`;
    return rows.map((r) => r.id);
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
    const rows = await this.db.$queryRaw<DojoEventRow[]>`
      SELECT ${EVENT_COLUMNS} FROM dojo_events
       WHERE id = ${eventRowId}::uuid AND location_id = ${locationId}::uuid FOR UPDATE`;
    if (!rows[0]) throw new Error(`dojo event ${eventRowId} of location ${locationId} does not exist`);
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

  /** The latest applied event of the intent that set `status` (occurredAt, then event id). */
  async lastAppliedWithStatus(locationId: string, paymentIntentId: string | null, status: string): Promise<{ occurredAt: Date; eventId: string } | null> {
    const rows = await this.db.$queryRaw<{ occurredAt: Date; eventId: string }[]>`
      SELECT occurred_at AS "occurredAt", event_id AS "eventId" FROM dojo_events
       WHERE location_id = ${locationId}::uuid AND ${paymentIntentId === null ? Prisma.sql`payment_intent_id IS NULL` : Prisma.sql`payment_intent_id = ${paymentIntentId}`}
         AND state = 'applied' AND payment_status = ${status}
       ORDER BY occurred_at DESC, event_id DESC LIMIT 1`;
    return rows[0] ?? null;
  }

  async markApplied(locationId: string, eventRowId: string): Promise<void> {
    await this.db.$executeRaw`
      UPDATE dojo_events SET state = 'applied', applied_at = now() WHERE id = ${eventRowId}::uuid AND location_id = ${locationId}::uuid`;
  }

  async markPendingPayment(locationId: string, eventRowId: string): Promise<void> {
    await this.db.$executeRaw`
      UPDATE dojo_events SET state = 'pending_payment' WHERE id = ${eventRowId}::uuid AND location_id = ${locationId}::uuid`;
  }
}

export const dojoEventsRepo = (db: Tx) => new DojoEventsRepository(db);
