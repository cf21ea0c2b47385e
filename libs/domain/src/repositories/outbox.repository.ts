import type { SecretBox } from '@app/db';
import { DOJO_REST_KEY_PROTOCOLS } from '@app/contracts';
import { apiKeyAad, Prisma } from '@app/db';
import type { DojoCredentials } from '@app/dojo-client';
import { jsonText } from '../shared/json-value';
import type { PosEventType } from '../shared/pos-outbox';
import type { Tx } from '../shared/tx';
import type { FeedKind } from '../shared/venue-feed';
import { deleteBatch } from './retention-sql';
import { isFinalWrite, sqlTxOf } from './sql-tx';

/**
 * The venue feed and outbox inserts of appendVenueFeed / enqueuePosEvent as
 * CTE fragments (`name AS (INSERT ...)`), so a use-case can write them in the
 * same statement as its own change. Same rows, same defaults.
 */

export function venueFeedInsertCte(name: string, locationId: string, kind: FeedKind, entityType: string, entityId: string, data: unknown): Prisma.Sql {
  return Prisma.sql`${Prisma.raw(name)} AS (INSERT INTO venue_feed (location_id, kind, entity_type, entity_id, data)
    VALUES (${locationId}::uuid, ${kind}, ${entityType}, ${entityId}, ${jsonText(data)}::jsonb))`;
}

const ENTITY: Record<PosEventType, string> = { OrderUpdated: 'order', PartyUpdated: 'party', ReservationUpdated: 'reservation' };

/** `protocol = ANY(...)` of the locations whose secret Dojo's REST API takes (DOJO_REST_KEY_PROTOCOLS), as SQL. */
const DOJO_REST_PROTOCOL_LIST = Prisma.raw(`(${DOJO_REST_KEY_PROTOCOLS.map((p) => `'${p}'`).join(', ')})`);

/**
 * The POS event's row, written only at a location whose secret is a Dojo API key (DOJO_REST_KEY_PROTOCOLS): Dojo's
 * POST /epos/events takes no other credential, so a Tables API or Connect location's change queues nothing.
 */
export function posEventInsertCte(name: string, locationId: string, eventType: PosEventType, entityId: string, payload: unknown): Prisma.Sql {
  return Prisma.sql`${Prisma.raw(name)} AS (INSERT INTO outbox_events (location_id, event_type, entity_type, entity_id, payload)
    SELECT l.id, ${eventType}::text, ${ENTITY[eventType]}::text, ${entityId}::text, ${jsonText(payload)}::jsonb
    FROM locations l WHERE l.id = ${locationId}::uuid AND l.protocol IN ${DOJO_REST_PROTOCOL_LIST})`;
}

/**
 * Runs the CTEs (none is allowed) as one statement. When one of them ends
 * its change (finalWrite: the stored response) and the transaction is on pg,
 * the statement is held to go out with COMMIT, in the same round trip; its
 * error (e.g. the gateway stored a deadline answer first) then fails the
 * commit instead, and nothing is committed either way.
 */
export async function runWrites(db: Tx, ctes: Prisma.Sql[]): Promise<void> {
  if (ctes.length === 0) return;
  const statement = Prisma.sql`WITH ${Prisma.join(ctes, ', ')} SELECT 1`;
  const tx = ctes.some(isFinalWrite) ? sqlTxOf(db) : undefined;
  if (tx) return tx.executeWithCommit(statement);
  await db.$executeRaw(statement);
}

/** A timestamptz parameter (ISO 8601 with its zone, so the session's TimeZone does not matter). */
export function tsParam(d: Date): Prisma.Sql {
  return Prisma.sql`${d.toISOString()}::timestamptz`;
}

/** A location's Dojo credentials; or why it has none: its key does not decrypt, or its protocol has no Dojo API key. */
export type LocationDojoCredentials = DojoCredentials | { unreadable: Error } | { noDojoKey: string };

/** An outbox row claimed for delivery (snake_case: the row as the claim returns it). */
export interface ClaimedPosEvent {
  id: bigint;
  location_id: string;
  event_type: string;
  entity_type: string;
  entity_id: string;
  payload: Record<string, unknown>;
  attempts: number;
  /** Newest pending row of the same entity when claimed: one send covers all rows up to it. */
  max_id: bigint;
}

/**
 * outbox_events: POS events waiting for delivery to Dojo. The inserts are the CTEs above
 * (written in the caller's statement); this class is the dispatcher's side: claim across
 * locations, credentials, and the outcome of each delivery.
 */
export class OutboxRepository {
  constructor(private readonly db: Tx) {}

  /**
   * Across all enabled locations: claims up to batchSize head rows (the oldest pending row of each entity, due now),
   * oldest due first, by pushing next_attempt_at ahead by leaseMs (FOR UPDATE SKIP LOCKED). One statement.
   *
   * Due means next_attempt_at <= now() at the column's precision (ms): a row stored with now() (the default, a
   * retry made due) is rounded to the nearest ms, up to 0.5 ms ahead, and compared with the exact now() a claim
   * right after it found it not yet due (on local Postgres, 888 of 2,000 claims one round trip after the insert).
   *
   * At most `perLocation` rows of one location, and fewer for a location listed in `busy` (its own room: the sends
   * the caller still has out to it count against the cap; one with no room is not looked at). So a location with a
   * backlog, or one whose sends are slow, never takes a whole batch, and its backlog never hides other locations'
   * rows: the locations with rows due are taken oldest due first (at most batchSize of them, each of which may give
   * a row), and each gives its oldest due heads up to its room, locked as they are read; of those, the batchSize
   * oldest are claimed (at most batchSize x perLocation rows are locked for the statement).
   *
   * `overdueMs` (0: every due row): only rows due for at least that long are looked at, the share of a dispatcher
   * that helps the one sending the outbox first (DispatchOutbox's `helping`).
   */
  claimAcrossLocations(
    batchSize: number,
    leaseMs: number,
    perLocation: number,
    busy: { locationIds: string[]; room: number[] } = { locationIds: [], room: [] },
    overdueMs = 0,
  ): Promise<ClaimedPosEvent[]> {
    const lease = `${leaseMs} milliseconds`;
    const overdue = `${overdueMs} milliseconds`;
    const full = busy.locationIds.filter((_, i) => (busy.room[i] ?? 0) <= 0);
    return this.db.$queryRaw<ClaimedPosEvent[]>`
      WITH venues AS (
        SELECT o.location_id, min(o.next_attempt_at) AS first_due FROM outbox_events o
        JOIN locations l ON l.id = o.location_id AND l.enabled
        WHERE o.state = 'pending' AND o.next_attempt_at <= now()::timestamptz(3) - ${overdue}::interval
          AND o.location_id <> ALL(${full}::uuid[])
          AND NOT EXISTS (
            SELECT 1 FROM outbox_events p
            WHERE p.location_id = o.location_id AND p.entity_type = o.entity_type AND p.entity_id = o.entity_id
              AND p.state = 'pending' AND p.id < o.id)
        GROUP BY o.location_id
        ORDER BY first_due
        LIMIT ${batchSize}
      ), heads AS (
        SELECT c.id FROM venues v
        LEFT JOIN unnest(${busy.locationIds}::uuid[], ${busy.room}::int[]) AS b(location_id, room) ON b.location_id = v.location_id
        CROSS JOIN LATERAL (
          SELECT o.id, o.next_attempt_at FROM outbox_events o
          WHERE o.location_id = v.location_id AND o.state = 'pending' AND o.next_attempt_at <= now()::timestamptz(3) - ${overdue}::interval
            AND NOT EXISTS (
              SELECT 1 FROM outbox_events p
              WHERE p.location_id = o.location_id AND p.entity_type = o.entity_type AND p.entity_id = o.entity_id
                AND p.state = 'pending' AND p.id < o.id)
          ORDER BY o.next_attempt_at, o.id
          LIMIT COALESCE(b.room, ${perLocation})
          FOR UPDATE OF o SKIP LOCKED
        ) c
        ORDER BY c.next_attempt_at, c.id
        LIMIT ${batchSize}
      )
      UPDATE outbox_events u SET next_attempt_at = now() + ${lease}::interval
      FROM heads WHERE u.id = heads.id
      RETURNING u.id, u.location_id, u.event_type, u.entity_type, u.entity_id, u.payload, u.attempts,
        (SELECT max(p.id) FROM outbox_events p
          WHERE p.location_id = u.location_id AND p.entity_type = u.entity_type AND p.entity_id = u.entity_id AND p.state = 'pending') AS max_id`;
  }

  /**
   * Credentials of the given locations, in one query; a location that is gone has no entry, one whose key does
   * not decrypt (a key ring without the key it was stored with) has the error instead, for its own rows to fail, and
   * one whose protocol's secret is not a Dojo API key (DOJO_REST_KEY_PROTOCOLS) has its protocol instead.
   */
  async credentialsOfLocations(locationIds: string[], secretBox: SecretBox): Promise<Map<string, LocationDojoCredentials>> {
    const rows = await this.db.$queryRaw<
      { id: string; protocol: string; api_key_ciphertext: Uint8Array; rest_url: string | null; reseller_id: string | null; sh_id: string; sh_reseller_id: string | null }[]
    >`
      SELECT l.id::text AS id, l.protocol, l.api_key_ciphertext, l.rest_url, l.reseller_id,
        s.dojo_software_house_id AS sh_id, s.reseller_id AS sh_reseller_id
      FROM locations l JOIN software_houses s ON s.id = l.software_house_id
      WHERE l.id = ANY(${locationIds}::uuid[])`;
    const out = new Map<string, LocationDojoCredentials>();
    for (const loc of rows) {
      if (!(DOJO_REST_KEY_PROTOCOLS as readonly string[]).includes(loc.protocol)) {
        // Its secret is a Tables API key or a Connect token: never sent to Dojo's REST API as if it were a Dojo key.
        out.set(loc.id, { noDojoKey: loc.protocol });
        continue;
      }
      let apiKey: string;
      try {
        apiKey = secretBox.decrypt(loc.api_key_ciphertext, apiKeyAad(loc.id));
      } catch (err) {
        out.set(loc.id, { unreadable: new Error(`the location's API key does not decrypt (${(err as Error).message})`) });
        continue;
      }
      out.set(loc.id, { apiKey, baseUrl: loc.rest_url, softwareHouseId: loc.sh_id, resellerId: loc.reseller_id ?? loc.sh_reseller_id });
    }
    return out;
  }

  /** Marks each delivered head row and the rows of its entity that were pending when it was claimed (id <= max_id) sent. */
  async markSent(rows: ClaimedPosEvent[]): Promise<void> {
    const heads = rows.map((r) => String(r.id));
    const locations = rows.map((r) => r.location_id);
    const types = rows.map((r) => r.entity_type);
    const entities = rows.map((r) => r.entity_id);
    const maxIds = rows.map((r) => String(r.max_id));
    await this.db.$executeRaw`
      UPDATE outbox_events o SET state = 'sent', sent_at = now(), attempts = o.attempts + CASE WHEN o.id = d.head THEN 1 ELSE 0 END
      FROM unnest(${heads}::bigint[], ${locations}::uuid[], ${types}::text[], ${entities}::text[], ${maxIds}::bigint[])
        AS d(head, location_id, entity_type, entity_id, max_id)
      WHERE o.location_id = d.location_id AND o.entity_type = d.entity_type AND o.entity_id = d.entity_id
        AND o.state = 'pending' AND o.id <= d.max_id`;
  }

  /**
   * Retention: up to `limit` POS events delivered before `before` deleted ('sent'; next_attempt_at is at or just
   * after sent_at, which lets the (state, next_attempt_at) index find them); how many.
   */
  deleteSentBefore(before: Date, limit: number): Promise<number> {
    return deleteBatch(this.db, 'outbox_events', Prisma.sql`state = 'sent' AND next_attempt_at < ${before} AND sent_at < ${before}`, limit);
  }

  /** Retention: up to `limit` POS events an operator discarded (or that failed for good) before `before` deleted; dead letters never; how many. */
  deleteDiscardedBefore(before: Date, limit: number): Promise<number> {
    return deleteBatch(
      this.db,
      'outbox_events',
      Prisma.sql`((state = 'discarded' AND discarded_at < ${before}) OR (state = 'failed' AND next_attempt_at < ${before} AND created_at < ${before}))`,
      limit,
    );
  }

  /** The row's location is gone: the row fails for good. */
  async markLocationGone(locationId: string, id: bigint): Promise<void> {
    await this.db.outboxEvent.updateMany({ where: { id, locationId }, data: { state: 'failed', lastError: 'location is gone' } });
  }

  /**
   * A row of a location whose protocol's secret is not a Dojo API key (it switched away from EPOS Data after the row
   * was written): discarded, with the reason, since Dojo's POST /epos/events would take no credential it has.
   */
  async discardWithoutDojoKey(locationId: string, id: bigint, protocol: string): Promise<void> {
    await this.db.outboxEvent.updateMany({
      where: { id, locationId, state: 'pending' },
      data: { state: 'discarded', discardedAt: new Date(), discardReason: `the location speaks ${protocol}, whose secret is not a Dojo API key: POS events are sent for EPOS Data locations only` },
    });
  }

  /** A failed delivery of a still-pending row: counted, then retried at nextAttemptAt or dead. */
  async recordFailure(
    locationId: string,
    id: bigint,
    f: { dead: true; attempts: number; message: string } | { dead: false; attempts: number; message: string; nextAttemptAt: Date },
  ): Promise<void> {
    await this.db.outboxEvent.updateMany({
      where: { id, locationId, state: 'pending' },
      data: f.dead
        ? { state: 'dead', attempts: f.attempts, lastError: f.message, deadAt: new Date() }
        : { attempts: f.attempts, lastError: f.message, nextAttemptAt: f.nextAttemptAt },
    });
  }
}
