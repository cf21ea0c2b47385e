import type { Logger } from '@app/common';
import type { PrismaClient } from '@app/db';
import type { DojoClient } from '@app/dojo-client';
import { intentStatusAdvances, isFinalIntentStatus, nextCheckDelayMs } from '../core/rules';
import type { IngestDojoEvent } from '../events/ingest-dojo-event.usecase';
import { paymentIntentsRepo } from '../repositories/payment-intents.repository';
import type { DojoCredentialsSource } from './ports';

export interface ReconcileOptions {
  /** Delay after the first read that found the intent still open, doubled per read (PAYMENT_INTENT_CHECK_AFTER_MS). */
  baseMs: number;
  /** At most this long between reads (PAYMENT_INTENT_CHECK_MAX_MS). */
  maxMs: number;
  /** Intents read per run. */
  batch?: number;
  /**
   * How long a run holds the intents it claimed (their next_check_at moved this far on); one whose run died is read
   * again after it. Longer than a run's reads take (default 5 min).
   */
  leaseMs?: number;
}

/**
 * ReconcilePaymentIntents: for online intents left open past their check
 * time (a webhook and the socket event both late or lost), reads the intent
 * from Dojo (GET /payment-intents/{id}) and, when its status moved, hands
 * that status to the events pipeline as an event of the 'reconciler' channel
 * (event id `reconciler:<intent>:<status>`, so it is stored and applied once,
 * beside whatever Dojo delivers); a Refunded intent whose refundedAmount grew
 * past what is known (a further partial refund, which moves no status) gives
 * `reconciler:<intent>:Refunded:<refundedAmount>`. Captured, and the final statuses, end the
 * watch; otherwise the next read is later, doubling (backoff), and a failed
 * read counts the same way. Every worker replica runs it: a run claims the
 * intents it reads (claimDueAcrossLocations, rows another run holds skipped),
 * and writes their next look only while the claim is theirs, so a watch the
 * venue API set during the read (or an event that ended it) stands.
 */
export class ReconcilePaymentIntents {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly dojo: DojoClient,
    private readonly credentials: DojoCredentialsSource,
    private readonly ingest: IngestDojoEvent,
    private readonly logger: Logger,
    private readonly opts: ReconcileOptions,
  ) {}

  async runOnce(now = new Date()): Promise<{ checked: number; moved: number }> {
    const intents = paymentIntentsRepo(this.prisma);
    const leaseMs = this.opts.leaseMs ?? 300_000;
    const claimedUntil = new Date(now.getTime() + leaseMs);
    const due = await intents.claimDueAcrossLocations(now, this.opts.batch ?? 50, claimedUntil);
    // A run slowed down by Dojo (each read may wait its timeout, twice) stops before its lease ends: the intents it has
    // not read are due again then, for whichever run claims them, instead of read here and by another run at once.
    const stopAt = Date.now() + leaseMs - Math.min(60_000, leaseMs / 5);
    let moved = 0;
    let checked = 0;
    for (const r of due) {
      if (Date.now() >= stopAt) {
        this.logger.warn({ read: checked, left: due.length - checked, leaseMs }, 'reconciler run stopped before its lease ended (Dojo answering slowly); the rest are read at the next run');
        break;
      }
      checked++;
      const id = r.paymentIntentId!;
      const log = this.logger.child({ locationId: r.locationId, paymentIntentId: id });
      const attempts = r.checkAttempts + 1;
      const later = new Date(now.getTime() + nextCheckDelayMs(r.checkAttempts, this.opts.baseMs, this.opts.maxMs));
      try {
        const pi = await this.dojo.getPaymentIntent(await this.credentials.forLocation(r.locationId), id);
        const status = pi.status;
        const advanced = status !== r.status && intentStatusAdvances(r.status, status);
        // A further refund leaves the status Refunded (no status event): its growing refundedAmount is the news.
        const refunded = BigInt(pi.refundedAmount ?? 0);
        const refundGrew = !advanced && status === 'Refunded' && refunded > r.refundedAmount;
        if (advanced || refundGrew) {
          moved++;
          await this.ingest.execute({
            locationId: r.locationId,
            channel: 'reconciler',
            payload: {
              id: advanced ? `reconciler:${id}:${status}` : `reconciler:${id}:Refunded:${refunded}`,
              event: 'payment_intent.status_updated',
              accountId: r.dojoAccountId,
              createdAt: pi.updatedAt && !Number.isNaN(Date.parse(pi.updatedAt)) ? new Date(pi.updatedAt).toISOString() : now.toISOString(),
              data: { paymentIntentId: id, paymentStatus: status, captureMode: pi.captureMode ?? r.captureMode },
            },
          });
          log.info({ from: r.status, to: status, refundedAmount: Number(refunded) }, 'reconciler found a payment intent status (or refund) no event had brought');
        }
        const settled = status === 'Captured' || isFinalIntentStatus(status);
        await intents.rescheduleClaimed(r.locationId, id, claimedUntil, settled ? null : later, settled ? 0 : attempts);
      } catch (err) {
        log.warn({ err: (err as Error).message, nextCheckAt: later.toISOString() }, 'reconciler could not read the payment intent from Dojo; it tries again later');
        await intents.rescheduleClaimed(r.locationId, id, claimedUntil, later, attempts);
      }
    }
    return { checked, moved };
  }

  /** Runs every `intervalMs` until stop(); a failed run is logged and the next one comes as planned. */
  start(intervalMs: number): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'payment intent reconciliation failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
