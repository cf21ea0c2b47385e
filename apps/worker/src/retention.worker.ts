import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, LOGGER, Logger, PRISMA, retentionMetrics } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { PruneExpiredRecords, retentionRepositories, RetentionSweeper } from '@app/domain/retention';

/** The first pass this long after start: a crash-looping worker does not run passes back to back. */
const FIRST_PASS_AFTER_MS = 60_000;

/** Retention in the worker app: a pass every RETENTION_INTERVAL_MS (libs/domain/src/retention). */
@Injectable()
export class RetentionWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly sweeper?: RetentionSweeper;

  constructor(@Inject(CONFIG) config: WorkerConfig, @Inject(PRISMA) prisma: PrismaClient, @Inject(LOGGER) logger: Logger) {
    if (config.RETENTION_INTERVAL_MS === 0) return;
    const log = logger.child({ component: 'retention' });
    const metrics = retentionMetrics();
    const prune = new PruneExpiredRecords(
      retentionRepositories(prisma),
      {
        requestsDays: config.RETENTION_REQUESTS_DAYS,
        deliveredDays: config.RETENTION_DELIVERED_DAYS,
        pendingPaymentDays: config.RETENTION_PENDING_PAYMENT_DAYS,
        discardedDays: config.RETENTION_DISCARDED_DAYS,
      },
      { batchSize: config.RETENTION_BATCH_SIZE, onRemoved: (record, n) => metrics.removed.labels(record).inc(n) },
      log,
    );
    this.sweeper = new RetentionSweeper(
      prune,
      { intervalMs: config.RETENTION_INTERVAL_MS, firstAfterMs: Math.min(FIRST_PASS_AFTER_MS, config.RETENTION_INTERVAL_MS), onPass: () => metrics.lastPass.setToCurrentTime() },
      log,
    );
  }

  onApplicationBootstrap(): void {
    this.sweeper?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweeper?.stop();
  }
}
