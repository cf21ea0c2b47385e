import { Prisma } from '@app/db';
import type { PosEventType } from './pos-outbox';
import type { Tx } from './tx';
import type { FeedKind } from './venue-feed';

/**
 * The venue feed and outbox inserts of appendVenueFeed / enqueuePosEvent as
 * CTE fragments (`name AS (INSERT ...)`), so a use-case can write them in the
 * same statement as its own change. Same rows, same defaults.
 */

/** BigInt-safe JSON text for a jsonb parameter (as toJson for Prisma Json columns). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)) ?? 'null';
}

export function venueFeedInsertCte(name: string, locationId: string, kind: FeedKind, entityType: string, entityId: string, data: unknown): Prisma.Sql {
  return Prisma.sql`${Prisma.raw(name)} AS (INSERT INTO venue_feed (location_id, kind, entity_type, entity_id, data)
    VALUES (${locationId}::uuid, ${kind}, ${entityType}, ${entityId}, ${jsonText(data)}::jsonb))`;
}

const ENTITY: Record<PosEventType, string> = { OrderUpdated: 'order', PartyUpdated: 'party', ReservationUpdated: 'reservation' };

export function posEventInsertCte(name: string, locationId: string, eventType: PosEventType, entityId: string, payload: unknown): Prisma.Sql {
  return Prisma.sql`${Prisma.raw(name)} AS (INSERT INTO outbox_events (location_id, event_type, entity_type, entity_id, payload)
    VALUES (${locationId}::uuid, ${eventType}, ${ENTITY[eventType]}, ${entityId}, ${jsonText(payload)}::jsonb))`;
}

/** Runs the CTEs (none is allowed) as one statement. */
export async function runWrites(db: Tx, ctes: Prisma.Sql[]): Promise<void> {
  if (ctes.length === 0) return;
  await db.$executeRaw(Prisma.sql`WITH ${Prisma.join(ctes, ', ')} SELECT 1`);
}

/** A timestamptz parameter (ISO 8601 with its zone, so the session's TimeZone does not matter). */
export function tsParam(d: Date): Prisma.Sql {
  return Prisma.sql`${d.toISOString()}::timestamptz`;
}
