import type { Tx } from '../shared/tx';
import { DomainError } from '../admin/errors';

/** A Dojo event of a location as the operator console shows it (no payload). */
export interface DojoEventView {
  id: string;
  eventId: string;
  eventType: string;
  paymentIntentId: string | null;
  paymentStatus: string | null;
  channel: string;
  deliveries: number;
  state: string;
  occurredAt: string;
  receivedAt: string;
  appliedAt: string | null;
}

/** A POS event in a location's outbox (no payload). */
export interface OutboxEventView {
  id: string;
  eventType: string;
  entityType: string;
  entityId: string;
  state: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** One location of the fleet: what the console needs from Postgres. */
export interface FleetRow {
  id: string;
  name: string;
  dojoAccountId: string;
  enabled: boolean;
  /** One of LOCATION_PROTOCOLS (@app/contracts): epos-data | dojo-tables | connect-pat | connect-pac. */
  protocol: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type DojoEventRow = {
  id: string;
  event_id: string;
  event_type: string;
  payment_intent_id: string | null;
  payment_status: string | null;
  channel: string;
  deliveries: number;
  state: string;
  occurred_at: Date;
  received_at: Date;
  applied_at: Date | null;
};

type OutboxRow = {
  id: bigint;
  event_type: string;
  entity_type: string;
  entity_id: string;
  state: string;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
};

const badCursor = () => DomainError.invalid([{ field: 'cursor', reason: 'is not a cursor this route returned' }]);

/**
 * Read side of a location's activity for the operator console: its Dojo events
 * (newest received first, keyset on (received_at, id)), its outbox (newest first,
 * keyset on id) and the fleet list. Plain SQL, scoped by location.
 */
export class LocationActivityRepository {
  constructor(private readonly prisma: Tx) {}

  async locationExists(locationId: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ one: number }[]>`SELECT 1 AS one FROM locations WHERE id = ${locationId}::uuid`;
    return rows.length > 0;
  }

  async dojoEvents(locationId: string, limit: number, cursor?: string): Promise<Page<DojoEventView>> {
    let after: { at: Date; id: string } | undefined;
    if (cursor) {
      const m = /^(\d{4}-[^|]+)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
      const t = m ? Date.parse(m[1]!) : NaN;
      // Only times Postgres can take (a forged cursor must be a 400, not a failed query).
      if (!m || !(t >= Date.UTC(1970, 0, 1) && t < Date.UTC(9999, 0, 1))) throw badCursor();
      after = { at: new Date(m[1]!), id: m[2]! };
    }
    const rows = after
      ? await this.prisma.$queryRaw<DojoEventRow[]>`
          SELECT id, event_id, event_type, payment_intent_id, payment_status, channel, deliveries, state::text AS state,
                 occurred_at, received_at, applied_at
            FROM dojo_events
           WHERE location_id = ${locationId}::uuid AND (received_at, id) < (${after.at}::timestamptz, ${after.id}::uuid)
           ORDER BY received_at DESC, id DESC
           LIMIT ${limit + 1}`
      : await this.prisma.$queryRaw<DojoEventRow[]>`
          SELECT id, event_id, event_type, payment_intent_id, payment_status, channel, deliveries, state::text AS state,
                 occurred_at, received_at, applied_at
            FROM dojo_events
           WHERE location_id = ${locationId}::uuid
           ORDER BY received_at DESC, id DESC
           LIMIT ${limit + 1}`;
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        eventId: r.event_id,
        eventType: r.event_type,
        paymentIntentId: r.payment_intent_id,
        paymentStatus: r.payment_status,
        channel: r.channel,
        deliveries: r.deliveries,
        state: r.state,
        occurredAt: r.occurred_at.toISOString(),
        receivedAt: r.received_at.toISOString(),
        appliedAt: r.applied_at?.toISOString() ?? null,
      })),
      nextCursor: more && last ? Buffer.from(`${last.received_at.toISOString()}|${last.id}`, 'utf8').toString('base64url') : null,
    };
  }

  async outbox(locationId: string, limit: number, cursor?: string): Promise<Page<OutboxEventView>> {
    if (cursor !== undefined && (!/^\d{1,19}$/.test(cursor) || BigInt(cursor) > 9_223_372_036_854_775_807n)) throw badCursor();
    const rows = cursor
      ? await this.prisma.$queryRaw<OutboxRow[]>`
          SELECT id, event_type, entity_type, entity_id, state::text AS state, attempts, next_attempt_at, last_error, created_at, sent_at
            FROM outbox_events
           WHERE location_id = ${locationId}::uuid AND id < ${BigInt(cursor)}
           ORDER BY id DESC
           LIMIT ${limit + 1}`
      : await this.prisma.$queryRaw<OutboxRow[]>`
          SELECT id, event_type, entity_type, entity_id, state::text AS state, attempts, next_attempt_at, last_error, created_at, sent_at
            FROM outbox_events
           WHERE location_id = ${locationId}::uuid
           ORDER BY id DESC
           LIMIT ${limit + 1}`;
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({
        id: r.id.toString(),
        eventType: r.event_type,
        entityType: r.entity_type,
        entityId: r.entity_id,
        state: r.state,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at.toISOString(),
        lastError: r.last_error,
        createdAt: r.created_at.toISOString(),
        sentAt: r.sent_at?.toISOString() ?? null,
      })),
      nextCursor: more ? page[page.length - 1]!.id.toString() : null,
    };
  }

  /** Every location, by name (the console's fleet; hundreds of rows). */
  async fleet(): Promise<FleetRow[]> {
    const rows = await this.prisma.$queryRaw<{ id: string; name: string; dojo_account_id: string; enabled: boolean; protocol: string }[]>`
      SELECT id, name, dojo_account_id, enabled, protocol FROM locations ORDER BY name, id`;
    return rows.map((r) => ({ id: r.id, name: r.name, dojoAccountId: r.dojo_account_id, enabled: r.enabled, protocol: r.protocol }));
  }
}
