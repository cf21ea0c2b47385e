import type { Logger } from '@app/common';
import type { DojoEventFacts } from '@app/contracts';
import type { PrismaClient } from '@app/db';
import { DojoEventGone, dojoEventsRepo } from '../../repositories/dojo-events.repository';
import { rawOnPg, runPlannedTransaction } from '../../repositories/unit-of-work';
import type { Tx } from '../../shared/tx';
import { DeadLettersRepository } from '../../repositories/dead-letters.repository';
import { deadLetterErrorText } from '../../dead-letters/error-text';
import type { ApplyResult} from '../event-effects';
import type { EventToOpen } from '../event-effects';
import { applyLockedEvent, lockAndLoadEvents } from '../event-effects';
import type { BatchCall } from '../../shared/turn-batch';
import { TurnBatch } from '../../shared/turn-batch';
import { COUNTED_PAYMENT_STATE, settlementOf } from '../../core/rules';
import { DojoApiError } from '@app/dojo-client';
import { WaitTimedOut } from '../../repositories/constraint-violation';
import { ordersRepo } from '../../repositories/orders.repository';
import { paymentIntentsRepo } from '../../repositories/payment-intents.repository';

export interface ApplyDojoEventCommand {
  eventRowId: string;
  /** What the row holds of its event, when the job carries it (EventEnqueuer): spares the read of the row's head. */
  facts?: DojoEventFacts;
}

/**
 * Port: an online intent as Dojo has it now (GET /payment-intents/{id}): the
 * tips the guest added at the checkout, what was refunded of it
 * (cumulative) and what its captures took (without tips; core/rules
 * dojoCapturedAmount), in minor units. `capturedAmount` null or absent:
 * Dojo's answer did not say.
 */
export interface DojoIntentReader {
  read(locationId: string, paymentIntentId: string): Promise<DojoIntentRead>;
}

export interface DojoIntentRead {
  tipsAmount: bigint;
  refundedAmount: bigint;
  capturedAmount?: bigint | null;
}

export interface ApplyDojoEventOptions {
  /** Failed attempts before the event becomes a dead letter (EVENTS_MAX_ATTEMPTS) [10]. */
  maxAttempts?: number;
  /**
   * Reads an online intent from Dojo before its capture is recorded (the
   * checkout tips, what was captured) and before a Refunded status is applied
   * (the refunded amount). Without it the intent's own tips are recorded, for
   * what the venue API's captures took (else the whole intent), and a refund
   * counts what the venue API's refunds add up to (nothing known: a full undo).
   */
  dojoIntents?: DojoIntentReader;
  /** Told how many events each transaction applied, and of each shared transaction that failed (the worker's metrics). */
  observe?: ApplyObserver;
  /**
   * Longest one statement of an event's transaction waits for a row or key another transaction holds [10,000 ms].
   * Past it the event is tried again later (a stuck holder, such as an operator's open psql transaction, never kills
   * it), instead of holding one of EVENTS_CONCURRENCY's places and a pooled connection for as long as the holder does.
   */
  waitBoundMs?: number;
}

/** ApplyDojoEventOptions.waitBoundMs's default: far above the milliseconds the request path holds an order. */
const EVENT_WAIT_BOUND_MS = 10_000;

/** What ApplyDojoEvent reports to the app's metrics; no metrics library here. */
export interface ApplyObserver {
  /** A transaction applied `events` events (1: alone). */
  applied(events: number): void;
  /** A shared transaction of `events` events failed; each is applied alone next. */
  sharedFailed(events: number): void;
}

/** Most events in one shared transaction; more in one turn make several (the worker runs EVENTS_CONCURRENCY at once). */
const MAX_SHARED = 50;

/** Events applied alone at once at most, of one job (they may ask Dojo first, or carry no facts) or of a failed lot. */
const ALONE_AT_ONCE = 4;

type ApplyCall = BatchCall<ApplyDojoEventCommand & { facts: DojoEventFacts }, ApplyResult>;

/** The intent an event works on, or its own row when it names none: one per shared transaction. */
const intentKey = (facts: DojoEventFacts, eventRowId: string): string => `${facts.locationId} ${facts.paymentIntentId ?? `row ${eventRowId}`}`;

/** Runs `fn` over `items`, at most `atOnce` at a time. */
async function inTurns<T>(items: T[], atOnce: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, runner));
}

/**
 * Applies one stored Dojo event (a dojo_events row) in one transaction: links
 * it to the recorded payment by payment intent id, moves the payment's status
 * forward by rank (never back), marks undone payments (Reversed, Refunded,
 * Canceled), recomputes the order and tells the venue. Safe to run any number
 * of times for the same row: only the first run has effects.
 *
 * A failed attempt is counted on the row (attempts, last_error) and the error
 * is rethrown for the queue to retry with backoff. At `maxAttempts` the row
 * becomes 'dead' (dead_at set, a warn line logged) and the call resolves with
 * outcome 'dead': neither the queue nor the sweeper touches it again until an
 * operator replays it (POST /v1/dead-letters/{id}/replay). When the failure
 * cannot even be recorded (Postgres unreachable) nothing is counted, and a
 * failure to read Dojo (unavailable: no answer, 408, 429, 5xx) counts only up
 * to one short of `maxAttempts`: neither outage kills events.
 *
 * Applies asked for in the same turn of the event loop (the events worker's
 * jobs running together) whose jobs carry the row's facts are applied together:
 * one transaction opens them all in one round trip (lockAndLoadEvents) and
 * their writes go out with COMMIT, 2 round trips and one commit for the lot
 * instead of each. Only one event per intent goes in (the reads of a second
 * would be taken before the first is applied): the others, and everything
 * when the shared transaction fails, are applied one by one as above, so a
 * bad event fails, and is counted, alone.
 */
export class ApplyDojoEvent {
  private readonly maxAttempts: number;
  private readonly deadLetters: DeadLettersRepository;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    opts: ApplyDojoEventOptions = {},
  ) {
    this.maxAttempts = opts.maxAttempts ?? 10;
    this.dojoIntents = opts.dojoIntents;
    this.observe = opts.observe;
    this.waitBoundMs = opts.waitBoundMs ?? EVENT_WAIT_BOUND_MS;
    this.deadLetters = new DeadLettersRepository(prisma);
    this.fast = rawOnPg(prisma);
    this.together = new TurnBatch((calls) => this.applyTogether(calls), MAX_SHARED);
  }

  /** The applies of one turn that may go together (TurnBatch): carried facts, nothing to ask Dojo first. */
  private readonly together: TurnBatch<ApplyDojoEventCommand & { facts: DojoEventFacts }, ApplyResult>;

  /** Prisma's client with the repositories' raw statements on pg directly (rawOnPg). */
  private readonly fast: Tx;

  private readonly dojoIntents?: DojoIntentReader;

  private readonly observe?: ApplyObserver;

  private readonly waitBoundMs: number;

  execute(cmd: ApplyDojoEventCommand): Promise<ApplyResult> {
    if (this.mayGoTogether(cmd)) return this.together.add(cmd);
    return this.executeAlone(cmd);
  }

  /**
   * Applies the events of one queue job (several when the enqueuer flushed them together) and says what became of
   * each. They go in waves of distinct intents, so a second event of an intent waits for the first one's wave, not
   * for its lock on a held connection. In a wave the events that may go together share one transaction (execute);
   * the others are applied alone, ALONE_AT_ONCE at a time, so a job of many online captures does not take the pool.
   */
  async executeAll(cmds: ApplyDojoEventCommand[]): Promise<PromiseSettledResult<ApplyResult>[]> {
    const out: PromiseSettledResult<ApplyResult>[] = new Array(cmds.length);
    const settle = (at: number, p: Promise<ApplyResult>): Promise<void> =>
      p.then(
        (value) => void (out[at] = { status: 'fulfilled', value }),
        (reason: unknown) => void (out[at] = { status: 'rejected', reason }),
      );
    let waiting = cmds.map((cmd, at) => ({ cmd, at }));
    while (waiting.length > 0) {
      const intents = new Set<string>();
      const together: typeof waiting = [];
      const alone: typeof waiting = [];
      const later: typeof waiting = [];
      for (const w of waiting) {
        const key = w.cmd.facts ? intentKey(w.cmd.facts, w.cmd.eventRowId) : undefined;
        if (key !== undefined && intents.has(key)) later.push(w);
        else {
          if (key !== undefined) intents.add(key);
          (this.mayGoTogether(w.cmd) ? together : alone).push(w);
        }
      }
      await Promise.all([
        ...together.map((w) => settle(w.at, this.execute(w.cmd))),
        inTurns(alone, ALONE_AT_ONCE, (w) => settle(w.at, this.executeAlone(w.cmd))),
      ]);
      waiting = later;
    }
    return out;
  }

  /** Whether the event may share a transaction (TurnBatch): its job carries the row's facts, and nothing is asked of Dojo first. */
  private mayGoTogether(cmd: ApplyDojoEventCommand): cmd is ApplyDojoEventCommand & { facts: DojoEventFacts } {
    return cmd.facts !== undefined && !this.mayAskDojo(cmd.facts);
  }

  /** One event in its own transaction; a failure is counted on its row (see the class). */
  private async executeAlone(cmd: ApplyDojoEventCommand): Promise<ApplyResult> {
    let result: ApplyResult;
    try {
      result = await this.apply(cmd);
    } catch (err) {
      const text = deadLetterErrorText(err);
      // Dojo unavailable (no answer, 408, 429, 5xx) while its answer was needed, or a lock held past the wait bound:
      // retried with backoff, never dead. Neither says anything about the event itself.
      const dojoDown = err instanceof DojoApiError && err.retryable;
      const held = err instanceof WaitTimedOut;
      if (dojoDown) this.logger.warn({ eventRowId: cmd.eventRowId, err: text }, 'Dojo could not be read for this event; it is tried again (a Dojo outage does not kill events)');
      if (held) this.logger.warn({ eventRowId: cmd.eventRowId, waitBoundMs: this.waitBoundMs }, 'another transaction held what this event needs past the wait bound; it is tried again');
      const failure = await this.deadLetters.recordDojoEventFailureByRowId(cmd.eventRowId, text, this.maxAttempts, !dojoDown && !held).catch(() => undefined);
      if (failure?.dead) {
        this.logger.warn(
          { deadLetter: `dojo-event:${cmd.eventRowId}`, locationId: failure.locationId, eventId: failure.eventId, attempts: failure.attempts, err: text },
          'dojo event is dead after its last attempt; replay or discard it through /v1/dead-letters',
        );
        return { outcome: 'dead' };
      }
      throw err;
    }
    this.logger.debug({ eventRowId: cmd.eventRowId, ...result }, 'dojo event processed');
    return result;
  }

  /**
   * Before the event's transaction (no network call holds locks), for an
   * online intent the event may settle, reads the intent from Dojo:
   * - a Captured (or Refunded) status with no payment recorded yet: what
   *   Dojo's captures took (a capture may take part of the intent) and, tips
   *   allowed, the tips the guest chose at the checkout are kept on the intent;
   *   a failed read, or an answer without captures, is logged and the payment
   *   is recorded with the intent's known tips for what the venue API's
   *   captures took (else the whole intent: core/rules capturedAmountOf);
   * - a Refunded status: Dojo's refundedAmount (cumulative) is kept on the
   *   intent (never lowered), so the transaction applies exactly what was
   *   refunded: a partial refund keeps the payment counted net of it. The
   *   status alone does not say how much, and refunds made outside the venue
   *   API (Dojo's portal) are only known this way, so a failed read fails the
   *   attempt: the event is retried with backoff rather than guessed.
   *
   * A card machine's payment (no online intent row) that a Refunded status
   * would undo: Dojo's refundedAmount is read likewise and returned, for the
   * transaction to apply (learnedRefund), so a partial refund keeps the rest
   * of the payment counted. Dojo not knowing the intent (404) keeps the
   * status's meaning: the payment is undone whole.
   */
  private async learnFromDojo(head: DojoEventFacts): Promise<bigint | undefined> {
    if (!this.mayAskDojo(head) || !this.dojoIntents || !head.paymentIntentId) return undefined;
    const refund = head.paymentStatus === 'Refunded';
    const intents = paymentIntentsRepo(this.fast);
    const intent = await intents.findByDojoId(head.locationId, head.paymentIntentId);
    if (!intent) return refund ? this.cardPaymentRefunded(head.locationId, head.paymentIntentId) : undefined;
    const toRecord = !(await ordersRepo(this.fast).findPayment(head.locationId, head.paymentIntentId));
    const wantsTips = intent.tipsAllowed && toRecord;
    if (!refund && !toRecord) return undefined;
    const log = this.logger.child({ locationId: head.locationId, paymentIntentId: head.paymentIntentId });
    let read: DojoIntentRead;
    try {
      read = await this.dojoIntents.read(head.locationId, head.paymentIntentId);
    } catch (err) {
      if (refund) throw err;
      log.warn({ err: (err as Error).message }, "could not read the intent from Dojo; recording it with its known tips, for what the venue API's captures took");
      return undefined;
    }
    if (toRecord && read.capturedAmount) await intents.raiseCaptured(head.locationId, head.paymentIntentId, read.capturedAmount);
    else if (toRecord) log.debug("Dojo's answer does not say what was captured; recording what the venue API's captures took");
    if (wantsTips && read.tipsAmount !== intent.tipsAmount) await intents.setTips(head.locationId, head.paymentIntentId, read.tipsAmount);
    if (refund) await intents.raiseRefunded(head.locationId, head.paymentIntentId, read.refundedAmount);
    return undefined;
  }

  /**
   * Dojo's refundedAmount (cumulative) of a card machine's payment still counted, before a Refunded status is
   * applied to it; undefined when there is no such payment, or Dojo does not know the intent (404: the status
   * then undoes the payment whole, as it says). Any other failed read fails the attempt, as for an online intent.
   */
  private async cardPaymentRefunded(locationId: string, paymentIntentId: string): Promise<bigint | undefined> {
    const payment = await ordersRepo(this.fast).findPayment(locationId, paymentIntentId);
    if (!payment || payment.state !== COUNTED_PAYMENT_STATE) return undefined;
    try {
      return (await this.dojoIntents!.read(locationId, paymentIntentId)).refundedAmount;
    } catch (err) {
      if (!(err instanceof DojoApiError && err.status === 404)) throw err;
      this.logger.warn({ locationId, paymentIntentId }, 'Dojo does not know the intent of this card payment; its Refunded status undoes it whole');
      return undefined;
    }
  }

  /**
   * Whether the event's status may need Dojo's answer before it is applied (learnFromDojo): an online intent's
   * Refunded status, or a status that records a payment. Only then is the row's state read before the apply, so
   * that an event already applied never costs a call to Dojo.
   */
  private mayAskDojo(facts: DojoEventFacts): boolean {
    if (!this.dojoIntents || !facts.paymentIntentId) return false;
    const status = facts.paymentStatus ?? '';
    return status === 'Refunded' || settlementOf(status, false) === 'record';
  }

  private async apply(cmd: ApplyDojoEventCommand): Promise<ApplyResult> {
    // The job carries what the row holds of its event: no read before the transaction, whose row lock
    // checks the state anyway (applyLockedEvent: applied, dead and discarded rows are left alone).
    if (cmd.facts && !this.mayAskDojo(cmd.facts)) return this.applyLocked(cmd.eventRowId, cmd.facts);
    // Unlocked: where the row belongs (never changes) and whether there is anything to do. The state is
    // checked again under the row lock (applyLockedEvent), so a concurrent apply still takes effect once.
    const head = await dojoEventsRepo(this.fast).findHeadByRowId(cmd.eventRowId);
    if (!head) return { outcome: 'missing' };
    if (head.state === 'applied') return { outcome: 'already_applied' };
    if (head.state === 'dead' || head.state === 'discarded') return { outcome: head.state };
    const learnedRefund = await this.learnFromDojo(head);
    return this.applyLocked(cmd.eventRowId, head, learnedRefund);
  }

  /** The event's transaction: its locks, the reads they guard and its effects; 'missing' when the row is not there. */
  private async applyLocked(eventRowId: string, facts: DojoEventFacts, learnedRefund?: bigint): Promise<ApplyResult> {
    try {
      const event: EventToOpen = { locationId: facts.locationId, eventRowId, paymentIntentId: facts.paymentIntentId };
      if (learnedRefund !== undefined) event.learnedRefund = learnedRefund;
      return (await this.applyInOneTransaction([event]))[0]!;
    } catch (err) {
      if (err instanceof DojoEventGone) return { outcome: 'missing' };
      throw err;
    }
  }

  /**
   * One transaction for `events` (one, or a turn's lot): their intent locks, row locks and the reads they guard
   * (with BEGIN in one round trip on pg), then each one's effects in turn; the results in the order given. On pg
   * directly; a step that needs a Prisma model call (recording an online payment) reruns it all on Prisma.
   */
  private async applyInOneTransaction(events: EventToOpen[]): Promise<ApplyResult[]> {
    const results = await runPlannedTransaction(
      this.prisma,
      async (tx) => {
        const out: ApplyResult[] = [];
        for (const [i, { ev, loaded }] of (await lockAndLoadEvents(tx, events)).entries()) {
          out.push(await applyLockedEvent(tx, ev, this.logger, loaded, events[i]!.learnedRefund));
        }
        return out;
      },
      { maxWait: 10_000, timeout: 30_000, waitBoundMs: this.waitBoundMs },
    );
    this.observe?.applied(events.length);
    return results;
  }

  /**
   * The applies of one turn (TurnBatch): the first event of each intent in one transaction, the rest alone.
   * When the shared transaction fails (a row gone, a lock wait that deadlocked, an event that fails), nothing
   * of it was committed and each of its events is applied alone, which counts a failure on its own row.
   */
  private async applyTogether(calls: ApplyCall[]): Promise<void> {
    const alone = (c: ApplyCall) => this.executeAlone(c.item).then(c.resolve, c.reject);
    const seen = new Set<string>();
    const shared: ApplyCall[] = [];
    for (const c of calls) {
      const key = intentKey(c.item.facts, c.item.eventRowId);
      if (seen.has(key)) void alone(c);
      else shared.push(c);
      seen.add(key);
    }
    if (shared.length === 0) return;
    if (shared.length === 1) return alone(shared[0]!);
    let results: ApplyResult[];
    try {
      results = await this.applyInOneTransaction(shared.map((c) => ({ locationId: c.item.facts.locationId, eventRowId: c.item.eventRowId, paymentIntentId: c.item.facts.paymentIntentId })));
    } catch (err) {
      this.observe?.sharedFailed(shared.length);
      this.logger.debug({ events: shared.length, err: (err as Error).message }, 'dojo events applied together failed; applying each alone');
      // A few at a time: a lot of a job's events (up to 50) must not take every pooled connection at once.
      await inTurns(shared, ALONE_AT_ONCE, alone);
      return;
    }
    shared.forEach((c, i) => {
      this.logger.debug({ eventRowId: c.item.eventRowId, ...results[i] }, 'dojo event processed');
      c.resolve(results[i]!);
    });
  }
}
