import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { cachedSource, CONFIG, createRedis, pipelineMetrics, PipelineBacklog, PRISMA, QUEUE_JOB_STATES, QueueSnapshot, queueMetrics } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { DeadLettersRepository } from '@app/domain/dead-letters';
import { PipelineBacklogRepository } from '@app/domain';
import { JobEnqueuer, QueueName, readRpcStreamDepth } from '@app/queue';

/** Scrapes closer together than this share one read of Redis / Postgres. */
const CACHE_MS = 2_000;

/**
 * The worker app's scrape-time metrics: BullMQ job counts and the oldest waiting
 * job's age of every catalog queue (epos_relay_queue_jobs, ..._oldest_waiting_age_seconds) and the backlog of Dojo events and the POS
 * outbox in Postgres (epos_relay_dojo_events_pending, ..._oldest_pending_age_seconds,
 * epos_relay_outbox_pending, ...) and the dead letters by kind (epos_relay_dead_letters). Read when /metrics is scraped, cached briefly.
 */
@Injectable()
export class WorkerMetricsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly queues: JobEnqueuer;
  private readonly removers: (() => void)[] = [];
  /** Reads the oldest waiting job of each queue (LINDEX, HGET). */
  private readonly redis: Redis;

  constructor(
    @Inject(CONFIG) private readonly config: WorkerConfig,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
  ) {
    this.queues = new JobEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    this.redis = createRedis(config.REDIS_URL, 'command');
  }

  onApplicationBootstrap(): void {
    this.removers.push(queueMetrics().snapshot.provide(cachedSource(() => this.readQueues(), CACHE_MS)));
    this.removers.push(pipelineMetrics().backlog.provide(cachedSource(() => this.readBacklog(), CACHE_MS)));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const remove of this.removers.splice(0)) remove();
    await this.queues.close();
    this.redis.disconnect();
  }

  async readQueues(): Promise<QueueSnapshot> {
    const out: QueueSnapshot = {};
    await Promise.all(
      Object.values(QueueName).map(async (name) => {
        if (name === QueueName.Rpc && this.config.RPC_TRANSPORT === 'streams') {
          // The request stream: entries not yet delivered are waiting, those delivered and not answered are active.
          const d = await readRpcStreamDepth(this.redis, this.config.QUEUE_PREFIX);
          out[name] = { counts: { waiting: d.lag, active: d.pending }, oldestWaitingSeconds: d.oldestWaitingSeconds };
          return;
        }
        const queue = this.queues.queue(name);
        const [counts, oldestId] = await Promise.all([
          queue.getJobCounts(...QUEUE_JOB_STATES),
          // The wait list takes new jobs on the left: its right end is the oldest waiting job.
          this.redis.lindex(queue.toKey('wait'), -1),
        ]);
        const createdAt = oldestId ? Number(await this.redis.hget(queue.toKey(oldestId), 'timestamp')) : NaN;
        out[name] = { counts, oldestWaitingSeconds: Number.isFinite(createdAt) ? Math.max(0, (Date.now() - createdAt) / 1000) : 0 };
      }),
    );
    return out;
  }

  async readBacklog(): Promise<PipelineBacklog> {
    const dead = new DeadLettersRepository(this.prisma).countAcrossLocations();
    const backlog = await new PipelineBacklogRepository(this.prisma).readAllLocations();
    return {
      ...backlog,
      deadLetters: await dead,
    };
  }
}
