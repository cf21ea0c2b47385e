import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { cachedSource, CONFIG, pipelineMetrics, PipelineBacklog, PRISMA, QUEUE_JOB_STATES, QueueJobCounts, queueMetrics } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { JobEnqueuer, QueueName } from '@app/queue';

/** Scrapes closer together than this share one read of Redis / Postgres. */
const CACHE_MS = 2_000;

/**
 * The worker app's scrape-time metrics: BullMQ job counts of every catalog
 * queue (epos_relay_queue_jobs) and the backlog of Dojo events and the POS
 * outbox in Postgres (epos_relay_dojo_events_pending, ..._oldest_pending_age_seconds,
 * epos_relay_outbox_pending, ...). Read when /metrics is scraped, cached briefly.
 */
@Injectable()
export class WorkerMetricsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly queues: JobEnqueuer;
  private readonly removers: (() => void)[] = [];

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
  ) {
    this.queues = new JobEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
  }

  onApplicationBootstrap(): void {
    this.removers.push(queueMetrics().counts.provide(cachedSource(() => this.readQueueCounts(), CACHE_MS)));
    this.removers.push(pipelineMetrics().backlog.provide(cachedSource(() => this.readBacklog(), CACHE_MS)));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const remove of this.removers.splice(0)) remove();
    await this.queues.close();
  }

  async readQueueCounts(): Promise<QueueJobCounts> {
    const out: QueueJobCounts = {};
    await Promise.all(
      Object.values(QueueName).map(async (name) => {
        out[name] = await this.queues.queue(name).getJobCounts(...QUEUE_JOB_STATES);
      }),
    );
    return out;
  }

  async readBacklog(): Promise<PipelineBacklog> {
    // Pending = not applied yet and not given up on: the states a stored event passes through on its way.
    const [row] = await this.prisma.$queryRaw<
      { ep: bigint; eage: number | null; op: bigint; oage: number | null; of: bigint }[]
    >`SELECT
        (SELECT count(*) FROM dojo_events WHERE state IN ('received', 'queued', 'pending_payment')) AS ep,
        (SELECT extract(epoch FROM now() - min(received_at))::float8 FROM dojo_events WHERE state IN ('received', 'queued', 'pending_payment')) AS eage,
        (SELECT count(*) FROM outbox_events WHERE state = 'pending') AS op,
        (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM outbox_events WHERE state = 'pending') AS oage,
        (SELECT count(*) FROM outbox_events WHERE state = 'failed') AS of`;
    return {
      eventsPending: Number(row!.ep),
      eventsOldestPendingSeconds: Math.max(0, row!.eage ?? 0),
      outboxPending: Number(row!.op),
      outboxOldestPendingSeconds: Math.max(0, row!.oage ?? 0),
      outboxFailed: Number(row!.of),
    };
  }
}
