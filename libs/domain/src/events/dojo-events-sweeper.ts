import type { Logger } from '@app/common';
import type { DojoEventsRepository, PendingCursor } from '../repositories/dojo-events.repository';
import type { EventEnqueuer } from './ingest-dojo-event.usecase';

/** Longest wait before the sweeper re-enqueues a row whose attempts keep failing. */
const MAX_FAILED_BACKOFF_MS = 300_000;

/** What the sweeper asks the events queue (the BullMQ adapter has it): how far behind it is. */
export interface EventQueueBacklog {
  /** When the oldest job still in the queue (waiting, running or waiting to retry) was added; null when none is. */
  oldestJobAddedAt(): Promise<Date | null>;
}

export interface DojoEventsSweeperOptions {
  /** How often to look for stranded rows. */
  intervalMs: number;
  /** Rows 'received' for longer than this are enqueued again (Redis was down, or a job was lost). */
  staleAfterMs: number;
  /** Rows per sweep. */
  batchSize?: number;
  /** 'pending_payment' rows looked at per sweep, oldest first, the next ones at the next sweep [2000]. */
  pendingSlice?: number;
  /**
   * While the queue lags, a 'received' row stored after its oldest job (less staleAfterMs) is left alone, since its
   * own job may still be waiting; past this age it is enqueued again all the same (a job stuck in the queue) [1 hour].
   */
  maxHoldMs?: number;
}

/**
 * The recovery path: stored events that never reached (or fell out of) the
 * queue are enqueued again. Enqueueing is idempotent (jobId = row id) and
 * applying is idempotent (row state), so several sweepers may run at once.
 * It also re-checks 'pending_payment' rows whose payment now exists, a safety
 * net for the hand-over with RecordOrderPayment: a slice of them per sweep
 * (pendingSlice, oldest first, going round), so a sweep costs the same
 * however many rows wait (events for intents this EPOS never records wait for
 * ever), and every waiting row is looked at once per round. A round covers
 * the rows waiting when it began, so however fast new ones arrive it ends and
 * starts again from the oldest.
 *
 * A row whose attempts have failed (the queue's own retries ran out) is
 * re-enqueued only after staleAfterMs doubled per failed attempt (at most
 * 5 minutes) since its last failure, so EVENTS_MAX_ATTEMPTS spans minutes
 * rather than seconds; at EVENTS_MAX_ATTEMPTS it is dead and never swept.
 *
 * A 'received' row is stale against the queue, not only the clock: when the enqueuer can say how far behind the
 * queue is (EventQueueBacklog), rows stored less than staleAfterMs before its oldest job are taken to be in a job
 * still waiting, and left alone (a lagging queue is not fed a second job for each of its rows), until the queue has
 * moved past them or maxHoldMs. A row whose enqueue never reached Redis is enqueued once the queue has gone past
 * where its job would be.
 */
export class DojoEventsSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  /** Where the next slice of 'pending_payment' rows starts (null: from the oldest). */
  private pendingCursor: PendingCursor | null = null;

  constructor(
    private readonly events: DojoEventsRepository,
    private readonly enqueuer: EventEnqueuer & Partial<EventQueueBacklog>,
    private readonly logger: Logger,
    private readonly opts: DojoEventsSweeperOptions,
  ) {}

  /** One pass; returns how many rows were enqueued. */
  async sweepOnce(): Promise<number> {
    const limit = this.opts.batchSize ?? 500;
    const staleMs = this.opts.staleAfterMs;
    const found = await this.events.findStrandedAcrossLocations(
      staleMs,
      MAX_FAILED_BACKOFF_MS,
      limit,
      { after: this.pendingCursor, slice: this.opts.pendingSlice ?? 2_000 },
      { oldestJobAt: await this.oldestJobAt(), maxHoldMs: this.opts.maxHoldMs ?? 3_600_000 },
    );
    this.pendingCursor = found.nextPending;
    const rows = found.ids;
    let enqueued = 0;
    for (const row of rows) {
      try {
        await this.enqueuer.enqueue(row);
        enqueued++;
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, pending: rows.length - enqueued }, 'sweeper could not enqueue dojo events; will retry');
        break;
      }
    }
    if (enqueued > 0) this.logger.info({ enqueued }, 'sweeper enqueued stranded dojo events');
    return enqueued;
  }

  /** The queue's oldest job's time; null (the clock alone decides) when there is none or the queue cannot say. */
  private async oldestJobAt(): Promise<Date | null> {
    if (!this.enqueuer.oldestJobAddedAt) return null;
    try {
      return await this.enqueuer.oldestJobAddedAt();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'sweeper could not read the events queue backlog; stale rows go by the clock');
      return null;
    }
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.sweepOnce()
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'dojo events sweep failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
