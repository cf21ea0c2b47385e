import { isUuid } from '@app/common';
import type { PrismaClient } from '@app/db';
import { Prisma } from '@app/db';

/** What can die: a Dojo event (dojo_events), a POS event (outbox_events) or a capability registration (locations). */
export const DEAD_LETTER_KINDS = ['dojo-event', 'pos-event', 'registration'] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/** A dead letter as the operator API shows it. */
export interface DeadLetter {
  /** "<kind>:<row id>" (the location id for a registration). */
  id: string;
  kind: DeadLetterKind;
  locationId: string;
  /** The Dojo event id, "<entityType> <entityId>" for a POS event, or "capabilities". */
  subject: string;
  attempts: number;
  lastError: string;
  deadAt: string;
  createdAt: string;
}

export interface DeadLetterRef {
  kind: DeadLetterKind;
  /** dojo_events.id (uuid), outbox_events.id (bigint) or locations.id (uuid). */
  rowId: string;
}

export interface DeadLetterFilter {
  locationId?: string;
  kind?: DeadLetterKind;
  /** Only letters that died at or after this instant. */
  since?: Date;
}

/** Position after the last item of a page (newest first: dead_at desc, id desc). */
export interface DeadLetterCursor {
  deadAt: Date;
  id: string;
}


/** Splits "<kind>:<row id>"; undefined when it cannot name a row (unknown kind, malformed row id). */
export function parseDeadLetterId(id: string): DeadLetterRef | undefined {
  const at = id.indexOf(':');
  if (at < 0) return undefined;
  const kind = id.slice(0, at) as DeadLetterKind;
  const rowId = id.slice(at + 1);
  if (!DEAD_LETTER_KINDS.includes(kind)) return undefined;
  if (kind === 'pos-event' ? !/^[1-9][0-9]{0,18}$/.test(rowId) || BigInt(rowId) > 9223372036854775807n : !isUuid(rowId)) return undefined;
  return { kind, rowId: rowId.toLowerCase() };
}

interface Row {
  kind: DeadLetterKind;
  row_id: string;
  location_id: string;
  subject: string;
  attempts: number;
  last_error: string | null;
  dead_at: Date;
  created_at: Date;
}

/**
 * One SELECT per kind, each restricted to its dead rows and the filter. A dead
 * row always has dead_at; should one lack it (written by hand), it is listed as
 * dead since it was received or created rather than breaking the list.
 */
function branches(f: DeadLetterFilter): Prisma.Sql[] {
  const kinds = f.kind ? [f.kind] : DEAD_LETTER_KINDS;
  const loc = (col: string) => (f.locationId ? Prisma.sql` AND ${Prisma.raw(col)} = ${f.locationId}::uuid` : Prisma.empty);
  const since = (col: string) => (f.since ? Prisma.sql` AND ${Prisma.raw(col)} >= ${f.since.toISOString()}::timestamptz` : Prisma.empty);
  return kinds.map((k) => {
    switch (k) {
      case 'dojo-event':
        return Prisma.sql`SELECT 'dojo-event' AS kind, id::text AS row_id, location_id::text AS location_id, event_id AS subject,
            attempts, last_error, coalesce(dead_at, received_at) AS dead_at, received_at AS created_at
          FROM dojo_events WHERE state = 'dead'${loc('location_id')}${since('coalesce(dead_at, received_at)')}`;
      case 'pos-event':
        return Prisma.sql`SELECT 'pos-event' AS kind, id::text AS row_id, location_id::text AS location_id, entity_type || ' ' || entity_id AS subject,
            attempts, last_error, coalesce(dead_at, created_at) AS dead_at, created_at
          FROM outbox_events WHERE state = 'dead'${loc('location_id')}${since('coalesce(dead_at, created_at)')}`;
      case 'registration':
        return Prisma.sql`SELECT 'registration' AS kind, id::text AS row_id, id::text AS location_id, 'capabilities' AS subject,
            registration_attempts AS attempts, registration_error AS last_error, registration_dead_at AS dead_at, created_at
          FROM locations
          WHERE registration_state = 'failed' AND registration_dead_at IS NOT NULL AND registration_discarded_at IS NULL${loc('id')}${since('registration_dead_at')}`;
    }
  });
}

function toDeadLetter(r: Row): DeadLetter {
  return {
    id: `${r.kind}:${r.row_id}`,
    kind: r.kind,
    locationId: r.location_id,
    subject: r.subject,
    attempts: Number(r.attempts),
    lastError: r.last_error ?? '',
    deadAt: r.dead_at.toISOString(),
    createdAt: r.created_at.toISOString(),
  };
}

/** A page of dead letters, newest first (dead_at desc, then id desc), after `cursor`. */
async function listDeadLetters(
  prisma: PrismaClient,
  f: DeadLetterFilter & { limit: number; cursor?: DeadLetterCursor },
): Promise<{ items: DeadLetter[]; nextCursor: DeadLetterCursor | null }> {
  const after = f.cursor
    ? Prisma.sql`WHERE (d.dead_at, (d.kind || ':' || d.row_id) COLLATE "C") < (${f.cursor.deadAt.toISOString()}::timestamptz, ${f.cursor.id} COLLATE "C")`
    : Prisma.empty;
  const rows = await prisma.$queryRaw<Row[]>`
    SELECT d.* FROM (${Prisma.join(branches(f), ' UNION ALL ')}) d
    ${after}
    ORDER BY d.dead_at DESC, (d.kind || ':' || d.row_id) COLLATE "C" DESC
    LIMIT ${f.limit + 1}`;
  const items = rows.slice(0, f.limit).map(toDeadLetter);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > f.limit && last ? { deadAt: new Date(last.deadAt), id: last.id } : null };
}

/** How many dead letters there are of each kind (for the epos_relay_dead_letters{kind} gauge). */
async function countDeadLetters(prisma: PrismaClient): Promise<Record<DeadLetterKind, number>> {
  const rows = await prisma.$queryRaw<Array<{ kind: DeadLetterKind; n: number }>>`
    SELECT 'dojo-event' AS kind, count(*)::int AS n FROM dojo_events WHERE state = 'dead'
    UNION ALL
    SELECT 'pos-event', count(*)::int FROM outbox_events WHERE state = 'dead'
    UNION ALL
    SELECT 'registration', count(*)::int FROM locations
     WHERE registration_state = 'failed' AND registration_dead_at IS NOT NULL AND registration_discarded_at IS NULL`;
  const out: Record<DeadLetterKind, number> = { 'dojo-event': 0, 'pos-event': 0, registration: 0 };
  for (const r of rows) out[r.kind] = Number(r.n);
  return out;
}

/** What a replay or discard of one row found: done, the row is not dead (anymore), or there is no such row. */
export type DeadLetterChange = 'done' | 'not_dead' | 'missing';

async function exists(prisma: PrismaClient, ref: DeadLetterRef): Promise<boolean> {
  const rows =
    ref.kind === 'dojo-event'
      ? await prisma.$queryRaw<unknown[]>`SELECT 1 FROM dojo_events WHERE id = ${ref.rowId}::uuid`
      : ref.kind === 'pos-event'
        ? await prisma.$queryRaw<unknown[]>`SELECT 1 FROM outbox_events WHERE id = ${ref.rowId}::bigint`
        : await prisma.$queryRaw<unknown[]>`SELECT 1 FROM locations WHERE id = ${ref.rowId}::uuid`;
  return rows.length > 0;
}

/**
 * Puts dead rows matching the filter (or the one `ref`) back in line with their
 * attempts reset: a Dojo event back to 'received' (the caller enqueues it), a
 * POS event back to 'pending' and due now, a registration back to 'pending'
 * (the caller schedules it). Returns the ids the caller must hand on.
 */
async function requeueDeadLetters(
  prisma: PrismaClient,
  f: DeadLetterFilter & { ref?: DeadLetterRef },
): Promise<{ dojoEventIds: string[]; posEventIds: string[]; registrationLocationIds: string[] }> {
  const want = (k: DeadLetterKind) => (f.ref ? f.ref.kind === k : !f.kind || f.kind === k);
  const loc = (col: string) => (f.locationId ? Prisma.sql` AND ${Prisma.raw(col)} = ${f.locationId}::uuid` : Prisma.empty);
  const since = (col: string) => (f.since ? Prisma.sql` AND ${Prisma.raw(col)} >= ${f.since.toISOString()}::timestamptz` : Prisma.empty);
  const one = (col: string, cast: string) => (f.ref ? Prisma.sql` AND ${Prisma.raw(col)} = ${f.ref.rowId}::${Prisma.raw(cast)}` : Prisma.empty);
  const ids = async (q: Prisma.Sql) => (await prisma.$queryRaw<Array<{ id: string }>>(q)).map((r) => r.id);
  return {
    dojoEventIds: want('dojo-event')
      ? await ids(Prisma.sql`UPDATE dojo_events SET state = 'received', attempts = 0, dead_at = NULL, last_failed_at = NULL
          WHERE state = 'dead'${one('id', 'uuid')}${loc('location_id')}${since('dead_at')} RETURNING id::text AS id`)
      : [],
    posEventIds: want('pos-event')
      ? await ids(Prisma.sql`UPDATE outbox_events SET state = 'pending', attempts = 0, dead_at = NULL, next_attempt_at = now()
          WHERE state = 'dead'${one('id', 'bigint')}${loc('location_id')}${since('dead_at')} RETURNING id::text AS id`)
      : [],
    registrationLocationIds: want('registration')
      ? await ids(Prisma.sql`UPDATE locations SET registration_state = 'pending', registration_attempts = 0, registration_dead_at = NULL,
            registration_error = NULL, updated_at = now()
          WHERE registration_state = 'failed' AND registration_dead_at IS NOT NULL AND registration_discarded_at IS NULL
            ${one('id', 'uuid')}${loc('id')}${since('registration_dead_at')} RETURNING id::text AS id`)
      : [],
  };
}

/** Requeues one dead letter (see requeueDeadLetters). */
async function requeueDeadLetter(prisma: PrismaClient, ref: DeadLetterRef): Promise<DeadLetterChange> {
  const r = await requeueDeadLetters(prisma, { ref });
  if (r.dojoEventIds.length + r.posEventIds.length + r.registrationLocationIds.length > 0) return 'done';
  return (await exists(prisma, ref)) ? 'not_dead' : 'missing';
}

/** Marks one dead letter discarded with the operator's reason: kept for audit, never retried. */
async function discardDeadLetter(prisma: PrismaClient, ref: DeadLetterRef, reason: string): Promise<DeadLetterChange> {
  const n =
    ref.kind === 'dojo-event'
      ? await prisma.$executeRaw`UPDATE dojo_events SET state = 'discarded', discarded_at = now(), discard_reason = ${reason}
          WHERE id = ${ref.rowId}::uuid AND state = 'dead'`
      : ref.kind === 'pos-event'
        ? await prisma.$executeRaw`UPDATE outbox_events SET state = 'discarded', discarded_at = now(), discard_reason = ${reason}
            WHERE id = ${ref.rowId}::bigint AND state = 'dead'`
        : await prisma.$executeRaw`UPDATE locations SET registration_discarded_at = now(), registration_discard_reason = ${reason}, updated_at = now()
            WHERE id = ${ref.rowId}::uuid AND registration_state = 'failed' AND registration_dead_at IS NOT NULL AND registration_discarded_at IS NULL`;
  if (n > 0) return 'done';
  return (await exists(prisma, ref)) ? 'not_dead' : 'missing';
}

/**
 * Records one failed attempt at applying a stored Dojo event, in its own
 * statement (the attempt's transaction rolled back). The row dies when it
 * reaches `maxAttempts`. Rows already applied, dead or discarded are left alone.
 */
async function recordDojoEventFailure(
  prisma: PrismaClient,
  eventRowId: string,
  error: string,
  maxAttempts: number,
  mayDie: boolean,
): Promise<{ attempts: number; dead: boolean; locationId: string; eventId: string } | undefined> {
  // A failure that may not kill (Dojo unavailable) counts up to one short of maxAttempts: its retries back off
  // like any other's, and it is never dead. A row another transaction holds (an apply of the same event elsewhere,
  // or what made this attempt give up) is not waited for: the attempt is not counted.
  const rows = await prisma.$queryRaw<Array<{ attempts: number; dead: boolean; location_id: string; event_id: string }>>`
    UPDATE dojo_events d SET attempts = CASE WHEN ${mayDie} THEN d.attempts + 1 ELSE GREATEST(d.attempts, LEAST(d.attempts + 1, ${maxAttempts - 1})) END,
        last_error = ${error}, last_failed_at = now(),
        state = CASE WHEN ${mayDie} AND d.attempts + 1 >= ${maxAttempts} THEN 'dead'::"EventState" ELSE d.state END,
        dead_at = CASE WHEN ${mayDie} AND d.attempts + 1 >= ${maxAttempts} THEN now() ELSE d.dead_at END
      FROM (SELECT id FROM dojo_events WHERE id = ${eventRowId}::uuid AND state IN ('received', 'queued', 'pending_payment') FOR UPDATE SKIP LOCKED) free
      WHERE d.id = free.id
    RETURNING d.attempts, d.state = 'dead' AS dead, d.location_id::text AS location_id, d.event_id`;
  const r = rows[0];
  return r ? { attempts: Number(r.attempts), dead: r.dead, locationId: r.location_id, eventId: r.event_id } : undefined;
}

/**
 * Dead letters across the three pipelines: dead Dojo events (dojo_events),
 * dead POS events (outbox_events) and failed registrations (locations). The
 * operator's list, counts, replay and discard, and the events worker's record
 * of a failed attempt. Not scoped to one location: the operator's view spans
 * the fleet (a filter narrows it to one location).
 */
export class DeadLettersRepository {
  constructor(private readonly prisma: PrismaClient) {}

  list(f: DeadLetterFilter & { limit: number; cursor?: DeadLetterCursor }) {
    return listDeadLetters(this.prisma, f);
  }
  countAcrossLocations(): Promise<Record<DeadLetterKind, number>> {
    return countDeadLetters(this.prisma);
  }
  requeue(f: DeadLetterFilter & { ref?: DeadLetterRef }) {
    return requeueDeadLetters(this.prisma, f);
  }
  requeueOne(ref: DeadLetterRef): Promise<DeadLetterChange> {
    return requeueDeadLetter(this.prisma, ref);
  }
  discard(ref: DeadLetterRef, reason: string): Promise<DeadLetterChange> {
    return discardDeadLetter(this.prisma, ref, reason);
  }
  /** A failed attempt at applying the event; `mayDie` false (Dojo unavailable) never makes it a dead letter. */
  recordDojoEventFailureByRowId(eventRowId: string, error: string, maxAttempts: number, mayDie = true) {
    return recordDojoEventFailure(this.prisma, eventRowId, error, maxAttempts, mayDie);
  }
}
