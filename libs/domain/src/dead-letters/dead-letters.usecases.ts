import { DomainError } from '../admin/errors';
import type { RegistrationScheduler } from '../admin/ports';
import type { EventEnqueuer } from '../events/ingest-dojo-event.usecase';
import type {
  DeadLetter, DeadLetterCursor, DeadLetterFilter, DeadLetterKind, DeadLettersRepository } from '../repositories/dead-letters.repository';
import { parseDeadLetterId } from '../repositories/dead-letters.repository';

export interface DeadLetterDeps {
  deadLetters: DeadLettersRepository;
  /** Hands a requeued Dojo event to the events queue (best effort: the sweeper enqueues 'received' rows it missed). */
  events: EventEnqueuer;
  /** Schedules a requeued registration now (never throws: the worker's sweep of pending locations covers it). */
  registration: RegistrationScheduler;
  log?: { warn(o: object, m: string): void };
}

/** The opaque `cursor` of the list: base64url of the last item's deadAt and id. */
export function encodeDeadLetterCursor(c: DeadLetterCursor): string {
  return Buffer.from(JSON.stringify([c.deadAt.toISOString(), c.id])).toString('base64url');
}

/** Undefined when `s` is not a cursor this API handed out. */
export function decodeDeadLetterCursor(s: string): DeadLetterCursor | undefined {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') return undefined;
    const deadAt = new Date(v[0]);
    if (Number.isNaN(deadAt.getTime()) || !parseDeadLetterId(v[1])) return undefined;
    return { deadAt, id: v[1] };
  } catch {
    return undefined;
  }
}

export interface ListDeadLettersQuery extends DeadLetterFilter {
  limit: number;
  cursor?: string;
}

/** GET /v1/dead-letters: dead Dojo events, POS events and registrations, newest first. */
export class ListDeadLetters {
  constructor(private readonly d: Pick<DeadLetterDeps, 'deadLetters'>) {}

  async execute(q: ListDeadLettersQuery): Promise<{ items: DeadLetter[]; nextCursor: string | null }> {
    const cursor = q.cursor === undefined ? undefined : decodeDeadLetterCursor(q.cursor);
    if (q.cursor !== undefined && !cursor) throw DomainError.invalid([{ field: 'cursor', reason: 'must be the nextCursor of a previous page' }]);
    const page = await this.d.deadLetters.list({ ...q, cursor });
    return { items: page.items, nextCursor: page.nextCursor ? encodeDeadLetterCursor(page.nextCursor) : null };
  }
}

async function handOn(d: DeadLetterDeps, r: { dojoEventIds: string[]; registrationLocationIds: string[] }): Promise<void> {
  for (const id of r.dojoEventIds) {
    await d.events.enqueue(id).catch((err: Error) =>
      d.log?.warn({ eventRowId: id, err: err.message }, 'could not enqueue a replayed dojo event; the sweeper will pick it up'),
    );
  }
  for (const id of r.registrationLocationIds) await d.registration.schedule(id, { now: true });
}

function refOf(id: string) {
  const ref = parseDeadLetterId(id);
  if (!ref) throw DomainError.notFound('dead letter', id);
  return ref;
}

/** POST /v1/dead-letters/{id}/replay: attempts reset, requeued at once. */
export class ReplayDeadLetter {
  constructor(private readonly d: DeadLetterDeps) {}

  async execute(id: string): Promise<{ id: string; kind: DeadLetterKind; state: 'requeued' }> {
    const ref = refOf(id);
    const change = await this.d.deadLetters.requeueOne(ref);
    if (change === 'missing') throw DomainError.notFound('dead letter', id);
    if (change === 'not_dead') throw DomainError.conflict(`${id} is not dead (it is pending, delivered, applied or discarded)`);
    await handOn(this.d, {
      dojoEventIds: ref.kind === 'dojo-event' ? [ref.rowId] : [],
      registrationLocationIds: ref.kind === 'registration' ? [ref.rowId] : [],
    });
    return { id: `${ref.kind}:${ref.rowId}`, kind: ref.kind, state: 'requeued' };
  }
}

/**
 * POST /v1/dead-letters/replay: every dead letter matching the filter, requeued.
 * Replaying every letter of every location takes `all: true`, never an empty
 * filter: a body the admin did not parse (a form, no content type) reads as
 * empty, and must not requeue the whole fleet's dead letters.
 */
export class ReplayDeadLetters {
  constructor(private readonly d: DeadLetterDeps) {}

  async execute(q: DeadLetterFilter & { all?: boolean }): Promise<{ requeued: number }> {
    const f: DeadLetterFilter = { locationId: q.locationId, kind: q.kind, since: q.since };
    const filtered = f.locationId !== undefined || f.kind !== undefined || f.since !== undefined;
    if (q.all === true && filtered) {
      throw DomainError.invalid([{ field: 'all', reason: 'replays every dead letter: send it alone, or leave it out to replay those matching the filter' }]);
    }
    if (q.all !== true && !filtered) {
      throw DomainError.invalid(
        [{ field: '(root)', reason: 'name a filter (locationId, kind, since), or send {"all": true} to replay every dead letter' }],
        'a bulk replay needs a JSON body (Content-Type: application/json) with a filter or {"all": true}',
      );
    }
    const r = await this.d.deadLetters.requeue(f);
    await handOn(this.d, r);
    return { requeued: r.dojoEventIds.length + r.posEventIds.length + r.registrationLocationIds.length };
  }
}

/** POST /v1/dead-letters/{id}/discard: kept for audit with the reason, never retried. */
export class DiscardDeadLetter {
  constructor(private readonly d: Pick<DeadLetterDeps, 'deadLetters'>) {}

  async execute(id: string, reason: string): Promise<{ id: string; kind: DeadLetterKind; state: 'discarded'; reason: string }> {
    const ref = refOf(id);
    const change = await this.d.deadLetters.discard(ref, reason);
    if (change === 'missing') throw DomainError.notFound('dead letter', id);
    if (change === 'not_dead') throw DomainError.conflict(`${id} is not dead (it is pending, delivered, applied or already discarded)`);
    return { id: `${ref.kind}:${ref.rowId}`, kind: ref.kind, state: 'discarded', reason };
  }
}
