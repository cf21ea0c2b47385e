import type { Logger } from '@app/common';
import { pendingPaymentDiscardReason, retentionCutoffs, type RetentionPolicy } from '../core/rules';
import type { PrismaClient } from '@app/db';
import { DojoEventsRepository } from '../repositories/dojo-events.repository';
import { OutboxRepository } from '../repositories/outbox.repository';
import { ProcessedRequests } from '../repositories/processed-requests.repository';
import { VenueFeedRepository } from '../repositories/venue-feed.repository';

/** The kinds of record a retention pass removes (the `record` label of its metric). */
export const RETAINED_RECORDS = [
  'dojo_events_pending_payment',
  'processed_requests',
  'pos_events_sent',
  'pos_events_discarded',
  'dojo_events_applied',
  'dojo_events_discarded',
  'venue_feed',
] as const;
export type RetainedRecord = (typeof RETAINED_RECORDS)[number];

export interface RetentionRepositories {
  requests: Pick<ProcessedRequests, 'deleteStoredBefore'>;
  outbox: Pick<OutboxRepository, 'deleteSentBefore' | 'deleteDiscardedBefore'>;
  events: Pick<DojoEventsRepository, 'deleteAppliedBefore' | 'deleteDiscardedBefore' | 'discardPendingPaymentBefore'>;
  feed: Pick<VenueFeedRepository, 'deleteBefore'>;
}

/** The repositories a pass goes through, on `prisma` (each the only code touching its table). */
export function retentionRepositories(prisma: PrismaClient): RetentionRepositories {
  return { requests: new ProcessedRequests(prisma), outbox: new OutboxRepository(prisma), events: new DojoEventsRepository(prisma), feed: new VenueFeedRepository(prisma) };
}

export interface RetentionOptions {
  /** Rows per statement: each batch is one short statement, so no lock or transaction is held for long. */
  batchSize: number;
  /** Batches per kind of record in one pass; what is left waits for the next pass (default 100). */
  maxBatchesPerKind?: number;
  /** Pause between two batches, leaving Postgres to the traffic (default 20 ms). */
  pauseMs?: number;
  /** Told each batch's count, for the metrics. */
  onRemoved?: (record: RetainedRecord, n: number) => void;
}

export interface RetentionPass {
  /** Rows removed (deleted, or for 'dojo_events_pending_payment' discarded), per kind. */
  removed: Record<RetainedRecord, number>;
  /** False when a kind stopped at maxBatchesPerKind (or the pass was stopped) with more to remove. */
  complete: boolean;
}

/**
 * A retention pass (core/rules retention): for each kind of finished record, batches of rows past its period
 * removed until none is left or the pass's share is used up. Events still waiting for their payment past their
 * period are discarded first (with the reason on the row), and deleted once the discarded period has passed too.
 * Dead letters, pending work and the venue's own data (orders, payments, intents, counter transactions) are never
 * touched. Several workers may run passes at once: each batch skips the rows another holds.
 */
export class PruneExpiredRecords {
  private stopping = false;

  constructor(
    private readonly repos: RetentionRepositories,
    private readonly policy: RetentionPolicy,
    private readonly opts: RetentionOptions,
    private readonly log: Logger,
  ) {}

  /** Asks a running pass to end after its current batch. */
  stop(): void {
    this.stopping = true;
  }

  async runPass(now = new Date()): Promise<RetentionPass> {
    const cut = retentionCutoffs(now, this.policy);
    const { requests, outbox, events, feed } = this.repos;
    const reason = pendingPaymentDiscardReason(this.policy.pendingPaymentDays);
    const steps: [RetainedRecord, Date | null, (before: Date, limit: number) => Promise<number>][] = [
      ['dojo_events_pending_payment', cut.pendingPayment, (b, n) => events.discardPendingPaymentBefore(b, n, reason)],
      ['processed_requests', cut.requests, (b, n) => requests.deleteStoredBefore(b, n)],
      ['pos_events_sent', cut.delivered, (b, n) => outbox.deleteSentBefore(b, n)],
      ['pos_events_discarded', cut.discarded, (b, n) => outbox.deleteDiscardedBefore(b, n)],
      ['dojo_events_applied', cut.delivered, (b, n) => events.deleteAppliedBefore(b, n)],
      ['dojo_events_discarded', cut.discarded, (b, n) => events.deleteDiscardedBefore(b, n)],
      ['venue_feed', cut.delivered, (b, n) => feed.deleteBefore(b, n)],
    ];
    const removed = Object.fromEntries(RETAINED_RECORDS.map((r) => [r, 0])) as Record<RetainedRecord, number>;
    let complete = true;
    for (const [record, before, removeBatch] of steps) {
      if (before === null) continue;
      if (!(await this.drain(record, before, removeBatch, removed))) complete = false;
    }
    const total = RETAINED_RECORDS.reduce((s, r) => s + removed[r], 0);
    if (total > 0 || !complete) this.log.info({ removed, complete }, complete ? 'retention pass removed expired records' : 'retention pass stopped with more to remove; the next pass goes on');
    return { removed, complete };
  }

  /** Batches of one kind until a batch comes back short; false when stopped (share used up, or stop()) first. */
  private async drain(
    record: RetainedRecord,
    before: Date,
    removeBatch: (before: Date, limit: number) => Promise<number>,
    removed: Record<RetainedRecord, number>,
  ): Promise<boolean> {
    const { batchSize, maxBatchesPerKind = 100, pauseMs = 20 } = this.opts;
    for (let batch = 0; batch < maxBatchesPerKind; batch++) {
      if (this.stopping) return false;
      const n = await removeBatch(before, batchSize);
      removed[record] += n;
      if (n > 0) this.opts.onRemoved?.(record, n);
      if (n < batchSize) return true;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
    return false;
  }
}
