import type { Logger } from '@app/common';
import type { PrismaClient } from '@app/db';
import { dojoEventsRepo } from '../../repositories/dojo-events.repository';
import { runInTransaction } from '../../repositories/unit-of-work';
import { DeadLettersRepository } from '../../repositories/dead-letters.repository';
import { deadLetterErrorText } from '../../dead-letters/error-text';
import type { ApplyResult} from '../event-effects';
import { applyLockedEvent, lockPaymentIntent } from '../event-effects';
import { settlementOf } from '../../core/rules';
import { ordersRepo } from '../../repositories/orders.repository';
import { paymentIntentsRepo } from '../../repositories/payment-intents.repository';

export interface ApplyDojoEventCommand {
  eventRowId: string;
}

/** Port: the tips a guest added at Dojo's checkout to an online intent (GET /payment-intents/{id}), in minor units. */
export interface CheckoutTipsSource {
  tipsOf(locationId: string, paymentIntentId: string): Promise<bigint>;
}

export interface ApplyDojoEventOptions {
  /** Failed attempts before the event becomes a dead letter (EVENTS_MAX_ATTEMPTS) [10]. */
  maxAttempts?: number;
  /** Reads checkout tips before a captured online payment is recorded; without it the intent's own tips are recorded. */
  checkoutTips?: CheckoutTipsSource;
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
    this.checkoutTips = opts.checkoutTips;
    this.deadLetters = new DeadLettersRepository(prisma);
  }

  private readonly checkoutTips?: CheckoutTipsSource;

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

  /**
   * Before a Captured (or Refunded) event records an online payment with tips
   * allowed, the tips the guest chose at the checkout are read from Dojo and
   * kept on the intent, outside the transaction (no network call holds locks).
   * A failed read is logged and the intent's known tips are recorded.
   */
  private async learnCheckoutTips(eventRowId: string): Promise<void> {
    if (!this.checkoutTips) return;
    const head = await dojoEventsRepo(this.prisma).findHeadByRowId(eventRowId);
    if (!head?.paymentIntentId || head.state === 'applied' || settlementOf(head.paymentStatus ?? '', false) !== 'record') return;
    const intents = paymentIntentsRepo(this.prisma);
    const intent = await intents.findByDojoId(head.locationId, head.paymentIntentId);
    if (!intent?.tipsAllowed || (await ordersRepo(this.prisma).findPayment(head.locationId, head.paymentIntentId))) return;
    try {
      const tips = await this.checkoutTips.tipsOf(head.locationId, head.paymentIntentId);
      if (tips !== intent.tipsAmount) await intents.setTips(head.locationId, head.paymentIntentId, tips);
    } catch (err) {
      this.logger.warn({ locationId: head.locationId, paymentIntentId: head.paymentIntentId, err: (err as Error).message }, 'could not read checkout tips from Dojo; recording the intent without them');
    }
  }

  private async apply(cmd: ApplyDojoEventCommand): Promise<ApplyResult> {
    await this.learnCheckoutTips(cmd.eventRowId);
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
        return applyLockedEvent(tx, ev, this.logger);
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
  }
}
