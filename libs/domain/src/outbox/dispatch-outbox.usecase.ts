import type { SecretBox } from '@app/db';
import type { DojoClient, PosEventBody } from '@app/dojo-client';
import { DojoApiError } from '@app/dojo-client';
import { deadLetterErrorText } from '../dead-letters/error-text';
import type { ClaimedPosEvent, LocationDojoCredentials, OutboxRepository } from '../repositories/outbox.repository';

export interface OutboxDispatchOptions {
  /** Rows claimed per pass. */
  batchSize?: number;
  /** How long a claimed row is reserved for the dispatcher that claimed it. */
  leaseMs?: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Failed deliveries before a POS event becomes a dead letter (OUTBOX_MAX_ATTEMPTS) [20]; Dojo being unavailable never makes one. */
  maxAttempts?: number;
  /**
   * How long a pass waits for its sends [1000]. Those still out then are settled in the background (their rows stay
   * leased meanwhile), so a slow or unreachable location never holds up the next pass. The Dojo client's timeout
   * must stay well under `leaseMs`.
   */
  passWaitMs?: number;
  /**
   * Sends out at once to one location (this dispatcher's) [10]: a location with a backlog or slow answers takes at
   * most this many of the batch, and none while that many of its sends are still out.
   */
  perLocation?: number;
  /**
   * Whether this dispatcher only helps another one, asked at each pass (the worker: it does not hold the request
   * stream's reader lease, RPC_CONCENTRATE). A helping pass claims only rows due for `helpAfterMs` or longer, so while
   * the first dispatcher keeps up one process sends the POS events, and when it stalls or falls behind the others
   * send what it leaves. Absent: every pass claims every due row.
   */
  helping?: () => boolean;
  /** How long a row must have been due before a helping pass claims it (OUTBOX_HELP_AFTER_MS) [2000]. */
  helpAfterMs?: number;
}

type Counts = { failed: number; retried: number };
/** A pass's outcome counts (OutboxPass without `more`). */
type Tally = Counts & { sent: number };
const NONE: Tally = { sent: 0, failed: 0, retried: 0 };
const plus = (a: Tally, b: Tally): Tally => ({ sent: a.sent + b.sent, failed: a.failed + b.failed, retried: a.retried + b.retried });
type Credentials = Map<string, LocationDojoCredentials>;

/** What one pass did. */
export interface OutboxPass {
  sent: number;
  failed: number;
  retried: number;
  /** It claimed a full batch, or a location's full share: more rows may be due now (the loop goes again at once). */
  more: boolean;
}

export interface OutboxDeps {
  outbox: OutboxRepository;
  secretBox: SecretBox;
  dojo: DojoClient;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

/**
 * Delivers queued POS events (outbox_events) to Dojo's POST /epos/events.
 *
 * - In order per entity: only the oldest pending row of an entity is eligible,
 *   so a later change is never sent before an earlier one is through.
 * - POS events carry ids only (Dojo fetches the entity), so one successful send
 *   also settles the entity's other rows that were pending when it was claimed;
 *   rows written after the claim are sent again.
 * - Claiming pushes next_attempt_at ahead by a lease (FOR UPDATE SKIP LOCKED),
 *   so several dispatchers share the work and a crashed one's rows come back.
 * - Failures are retried with exponential backoff (at least Dojo's
 *   Retry-After, up to the longest backoff). While Dojo is unavailable (no
 *   answer, 408, 429, 5xx) a row is retried for as long as it takes: those
 *   failures count up to one short of `maxAttempts`, then it goes on at the
 *   longest backoff. Other failures (401/403, a key that does not decrypt)
 *   count to `maxAttempts`; then the row becomes a dead letter ('dead', with
 *   its last error and dead_at) and a warn line is logged. A request Dojo
 *   refuses as malformed (400/404/422) is dead at once: sending it again
 *   cannot help. An operator replays (back to 'pending', attempts 0) or
 *   discards it through /v1/dead-letters.
 * - A pass waits at most `passWaitMs` for its sends: it marks what was
 *   delivered and returns, and sends still out (a slow or unreachable
 *   location) are settled in the background, their rows leased meanwhile, so
 *   one slow location never holds up other venues' events. At most
 *   `batchSize` sends are out at once, and at most `perLocation` to one
 *   location: a location with a backlog or slow answers never fills a batch,
 *   and while its share of sends is out its rows are not claimed at all.
 * - A dead row blocks no one: other entities never wait for it, and neither do
 *   later events of its own entity. A POS event carries only the entity's id
 *   and Dojo fetches the entity's current state, so a later event of the same
 *   entity tells Dojo everything the dead one would have; holding it back
 *   would leave Dojo on a stale order/party/reservation until an operator acts.
 */
export class DispatchOutbox {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly passWaitMs: number;
  private readonly perLocation: number;
  private readonly helpAfterMs: number;
  private readonly outbox: OutboxRepository;
  /** Sends still out, of this pass and of earlier ones that stopped waiting for them. */
  private sending = 0;
  /** The same, per location (none listed once its last send is back). */
  private readonly sendingTo = new Map<string, number>();
  /** What earlier passes' slow sends settled after their pass had returned, still to be reported. */
  private late: Tally = NONE;
  private readonly stragglers = new Set<Promise<void>>();

  constructor(
    private readonly d: OutboxDeps,
    private readonly opts: OutboxDispatchOptions,
  ) {
    this.batchSize = opts.batchSize ?? 50;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.maxAttempts = opts.maxAttempts ?? 20;
    this.passWaitMs = opts.passWaitMs ?? 1_000;
    this.perLocation = opts.perLocation ?? 10;
    this.helpAfterMs = opts.helpAfterMs ?? 2_000;
    this.outbox = d.outbox;
  }

  /**
   * One pass: how many rows were sent, failed for good or will be retried (with what slow sends of earlier passes
   * settled since), and whether it claimed all it had room for (more may be due).
   */
  async execute(): Promise<OutboxPass> {
    const late = this.late;
    this.late = NONE;
    try {
      return await this.pass(late);
    } catch (err) {
      // The slow sends' counts are reported by the next pass that goes through, not lost with this one.
      this.late = plus(this.late, late);
      throw err;
    }
  }

  private async pass(late: Tally): Promise<OutboxPass> {
    // At most batchSize sends out at once, and perLocation to one location, counting the slow ones earlier passes
    // left running.
    const room = this.batchSize - this.sending;
    const busy = [...this.sendingTo];
    const share = new Map(busy.map(([loc, n]) => [loc, this.perLocation - n]));
    const overdueMs = this.opts.helping?.() ? this.helpAfterMs : 0;
    const claimed =
      room > 0
        ? await this.outbox.claimAcrossLocations(room, this.leaseMs, this.perLocation, { locationIds: busy.map(([loc]) => loc), room: busy.map(([loc]) => share.get(loc)!) }, overdueMs)
        : [];
    if (claimed.length === 0) return { ...late, more: false };
    const taken = new Map<string, number>();
    for (const r of claimed) taken.set(r.location_id, (taken.get(r.location_id) ?? 0) + 1);
    // A location that filled its share may have more due: go again at once (it is left out while its sends are out).
    const more = claimed.length >= room || [...taken].some(([loc, n]) => n >= (share.get(loc) ?? this.perLocation));
    // One query for the credentials of every location in the batch, and one statement marking every delivered
    // row sent (one more for the slow ones, below): a pass holds a pooled connection for 3 statements instead of 2
    // per row, so a burst of POS events no longer starves the RPC handlers that share the pool (it made the request
    // path's p99 several times higher).
    const creds = await this.outbox.credentialsOfLocations([...new Set(claimed.map((r) => r.location_id))], this.d.secretBox);
    const delivered: ClaimedPosEvent[] = [];
    const counts: Counts = { failed: 0, retried: 0 };
    this.sending += claimed.length;
    for (const [loc, n] of taken) this.sendingTo.set(loc, (this.sendingTo.get(loc) ?? 0) + n);
    // Settled one by one: a row whose failure could not be recorded must not keep the delivered ones from being marked.
    const settled = Promise.allSettled(claimed.map((row) => this.deliver(row, creds, delivered, counts).finally(() => this.sent(row.location_id))));
    // A slow or unreachable location must not hold up the pass (the next one, other venues' events): after
    // passWaitMs the delivered rows are marked and the pass returns; the slow sends go on (their rows are leased, so
    // no other pass sends them) and are settled, with one more statement, once the last of them is back.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<false>((r) => (timer = setTimeout(() => r(false), this.passWaitMs)));
    const inTime = await Promise.race([settled.then(() => true), waited]);
    clearTimeout(timer);
    const early = delivered.splice(0);
    const pass = { sent: early.length, failed: counts.failed, retried: counts.retried };
    if (!inTime) this.settleLater(settled, delivered, counts, pass);
    if (early.length) await this.outbox.markSent(early);
    if (inTime) {
      // Their rows are sent again once their lease passes (Dojo reads the entity's current state: a repeat is harmless).
      const unrecorded = (await settled).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (unrecorded) throw unrecorded.reason;
    }
    return { ...plus(pass, late), more };
  }

  /** One send to the location is back. */
  private sent(locationId: string): void {
    this.sending--;
    const n = (this.sendingTo.get(locationId) ?? 1) - 1;
    if (n > 0) this.sendingTo.set(locationId, n);
    else this.sendingTo.delete(locationId);
  }

  /** Resolves once the slow sends earlier passes left running are settled (stopping: nothing is left half done). */
  async drain(): Promise<void> {
    while (this.stragglers.size) await Promise.allSettled([...this.stragglers]);
  }

  /** A pass's sends still out when it returned: marked (delivered) and counted (all of them) once the last is back. */
  private settleLater(settled: Promise<PromiseSettledResult<void>[]>, delivered: ClaimedPosEvent[], counts: Counts, reported: Counts): void {
    const done: Promise<void> = settled
      .then(async (results) => {
        const rows = delivered.splice(0);
        if (rows.length) await this.outbox.markSent(rows);
        this.late = plus(this.late, { sent: rows.length, failed: counts.failed - reported.failed, retried: counts.retried - reported.retried });
        const unrecorded = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (unrecorded) throw unrecorded.reason;
      })
      .catch((err: unknown) =>
        this.d.log?.warn({ err: (err as Error)?.message ?? String(err) }, 'outcome of slow POS event sends not recorded; their rows are sent again once their lease passes'),
      )
      .finally(() => this.stragglers.delete(done));
    this.stragglers.add(done);
  }

  /** Sends one row: pushed to `delivered`, or its failure recorded and counted; rejects only when that record failed. */
  private async deliver(row: ClaimedPosEvent, creds: Credentials, delivered: ClaimedPosEvent[], counts: Counts): Promise<void> {
    try {
      const c = creds.get(row.location_id);
      if (!c) {
        await this.outbox.markLocationGone(row.location_id, row.id);
        counts.failed++;
        return;
      }
      if ('noDojoKey' in c) {
        await this.outbox.discardWithoutDojoKey(row.location_id, row.id, c.noDojoKey);
        counts.failed++;
        return;
      }
      // That location's rows fail (and count towards a dead letter); the rest of the pass goes on.
      if ('unreadable' in c) throw c.unreadable;
      await this.d.dojo.sendPosEvent(c, this.body(row));
      delivered.push(row);
    } catch (err) {
      const refused = err instanceof DojoApiError && [400, 404, 422].includes(err.status);
      // Dojo unavailable (no answer, 408, 429, 5xx) never kills a POS event, however long it lasts: its count
      // stops one short of maxAttempts and it goes on at the longest backoff (as a Dojo event's does).
      const unavailable = err instanceof DojoApiError && err.retryable;
      const message = deadLetterErrorText(err);
      const attempts = unavailable ? Math.max(row.attempts, Math.min(row.attempts + 1, this.maxAttempts - 1)) : row.attempts + 1;
      const dead = refused || (!unavailable && attempts >= this.maxAttempts);
      const delay =
        unavailable && row.attempts + 1 >= this.maxAttempts
          ? this.opts.backoffMaxMs
          : Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
      const jittered = Math.round(delay * (0.75 + Math.random() * 0.25));
      // Dojo's Retry-After (429, 503) is waited out, up to the longest backoff, instead of being slept on in the call.
      const retryAfter = unavailable ? Math.min(err.retryAfterMs ?? 0, this.opts.backoffMaxMs) : 0;
      const nextAttemptAt = new Date(Date.now() + Math.max(jittered, retryAfter));
      await this.outbox.recordFailure(row.location_id, row.id, dead ? { dead, attempts, message } : { dead, attempts, message, nextAttemptAt });
      if (dead) counts.failed++;
      else counts.retried++;
      const where = { locationId: row.location_id, outboxId: String(row.id), entity: `${row.entity_type} ${row.entity_id}`, attempts, refused, err: message };
      if (dead) this.d.log?.warn({ ...where, deadLetter: `pos-event:${row.id}` }, 'POS event is dead; replay or discard it through /v1/dead-letters');
      else this.d.log?.warn(where, 'POS event not delivered');
    }
  }

  private body(row: ClaimedPosEvent): PosEventBody {
    const p = row.payload ?? {};
    switch (row.event_type) {
      case 'OrderUpdated':
        return { eventType: 'OrderUpdated', event: { orderId: idOf(p.orderId, row.entity_id) } };
      case 'PartyUpdated':
        return { eventType: 'PartyUpdated', event: { partyId: idOf(p.partyId, row.entity_id) } };
      default:
        return { eventType: 'ReservationUpdated', event: { reservationId: idOf(p.reservationId, row.entity_id) } };
    }
  }
}

/** The entity id a POS event names: the payload's, else the outbox row's entity id. */
function idOf(fromPayload: unknown, entityId: string): string {
  return typeof fromPayload === 'string' || typeof fromPayload === 'number' ? String(fromPayload) : entityId;
}
