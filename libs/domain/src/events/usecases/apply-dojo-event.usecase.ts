import type { Logger } from '@app/common';
import type { PrismaClient } from '@app/db';
import { dojoEventsRepo } from '../../repositories/dojo-events.repository';
import { runInTransaction } from '../../repositories/unit-of-work';
import { DeadLettersRepository } from '../../repositories/dead-letters.repository';
import { deadLetterErrorText } from '../../dead-letters/error-text';
import type { ApplyResult} from '../event-effects';
import { applyLockedEvent, lockPaymentIntent } from '../event-effects';

export interface ApplyDojoEventCommand {
  eventRowId: string;
}

export interface ApplyDojoEventOptions {
  /** Failed attempts before the event becomes a dead letter (EVENTS_MAX_ATTEMPTS) [10]. */
  maxAttempts?: number;
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
 * cannot even be recorded (Postgres unreachable) nothing is counted: an outage
 * does not kill events.
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
    this.deadLetters = new DeadLettersRepository(prisma);
  }

  async execute(cmd: ApplyDojoEventCommand): Promise<ApplyResult> {
    let result: ApplyResult;
    try {
      result = await this.apply(cmd);
    } catch (err) {
      const text = deadLetterErrorText(err);
      const failure = await this.deadLetters.recordDojoEventFailureByRowId(cmd.eventRowId, text, this.maxAttempts).catch(() => undefined);
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

  private apply(cmd: ApplyDojoEventCommand): Promise<ApplyResult> {
    return runInTransaction(
      this.prisma,
      async (tx) => {
        const events = dojoEventsRepo(tx);
        const head = await events.findHeadByRowId(cmd.eventRowId);
        if (!head) return { outcome: 'missing' };
        if (head.state === 'applied') return { outcome: 'already_applied' };
        if (head.state === 'dead' || head.state === 'discarded') return { outcome: head.state };
        if (head.paymentIntentId) await lockPaymentIntent(tx, head.locationId, head.paymentIntentId);
        const ev = await events.lockAndRead(head.locationId, cmd.eventRowId);
        return applyLockedEvent(tx, ev);
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
  }
}
