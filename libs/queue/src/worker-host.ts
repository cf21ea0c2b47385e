import type { Job, WorkerOptions } from 'bullmq';
import { Worker } from 'bullmq';
import type Redis from 'ioredis';
import type { HealthIndicator, HealthRegistry, Logger } from '@app/common';
import { createRedis, workerMetrics } from '@app/common';
import type { Histogram } from 'prom-client';
import type { QueueName, QueuePayloads } from './catalog';
import { queuePrefix } from './catalog';
import { LoopHealth } from './loop-health';

export interface QueueWorkerOptions<Q extends QueueName> {
  queue: Q;
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
  concurrency: number;
  /** Failed jobs, errors of the loop and its death are logged here. */
  logger?: Logger;
  /** When given, the worker reports itself as `worker:<queue>` and GET /health turns 503 when its loop is dead. */
  health?: HealthRegistry;
  /** Log fields that identify a job in failure lines (default: the job id). */
  describe?: (data: QueuePayloads[Q]) => Record<string, unknown>;
  /** Further BullMQ worker options (e.g. maxStalledCount). */
  worker?: Partial<Omit<WorkerOptions, 'connection' | 'prefix' | 'concurrency' | 'autorun'>>;
}

/**
 * The base of every queue consumer: wraps a BullMQ Worker on one catalog
 * queue. It logs failed jobs and errors of the loop, and reports as a health
 * indicator that turns unhealthy, with a readable reason, when the loop cannot
 * work: `run()` rejected or returned, the worker closed without being asked to,
 * its Redis connection has been down longer than a few seconds (or closed for
 * good), or the loop has kept emitting errors for that long without a job
 * finishing or the queue draining in between (a stalled loop).
 */
export class QueueWorker<Q extends QueueName> implements HealthIndicator {
  readonly name: string;
  private readonly worker: Worker<QueuePayloads[Q]>;
  private readonly connection: Redis;
  private readonly loopHealth: LoopHealth;

  constructor(
    private readonly opts: QueueWorkerOptions<Q>,
    processor: (job: Job<QueuePayloads[Q]>) => Promise<unknown>,
  ) {
    this.name = `worker:${opts.queue}`;
    this.connection = createRedis(opts.redisUrl, 'blocking');
    this.loopHealth = new LoopHealth(opts.queue, this.connection, opts.logger);
    // epos_relay_worker_job_duration_seconds{queue, job}: one bound child per job name (catalog names and RPC methods).
    const durations = new Map<string, Histogram.Internal<string>>();
    const hist = workerMetrics().jobDuration;
    const timed = async (job: Job<QueuePayloads[Q]>) => {
      const t0 = performance.now();
      try {
        return await processor(job);
      } finally {
        let h = durations.get(job.name);
        if (!h) durations.set(job.name, (h = hist.labels(opts.queue, job.name)));
        h.observe((performance.now() - t0) / 1000);
      }
    };
    this.worker = new Worker<QueuePayloads[Q]>(opts.queue, timed, {
      // After a failed fetch BullMQ waits this long before trying again (15 s by default, and close() waits it out).
      runRetryDelay: 2_000,
      ...opts.worker,
      connection: this.connection,
      prefix: queuePrefix(opts.prefix, opts.queue),
      concurrency: opts.concurrency,
      autorun: false,
    });
    this.worker.on('error', (err) => this.loopHealth.noteError(err));
    const progress = () => this.loopHealth.progress();
    this.worker.on('completed', progress);
    this.worker.on('drained', progress);
    this.worker.on('stalled', (jobId) => this.opts.logger?.warn({ queue: opts.queue, jobId }, 'queue job stalled (its lock expired); it is moved back to wait or failed'));
    this.worker.on('failed', (job, err) => {
      progress();
      const fields = job ? (opts.describe?.(job.data) ?? { jobId: job.id }) : {};
      this.opts.logger?.warn(
        { queue: opts.queue, ...fields, attempt: job?.attemptsMade, attempts: job?.opts.attempts, err: err.message },
        'queue job failed',
      );
    });
    this.worker.on('closed', () => {
      if (!this.loopHealth.closing) this.loopHealth.die('the worker closed without being asked to');
    });
    opts.health?.register(this);
  }

  /** Starts the loop; a loop that ends with an error marks the worker dead. */
  start(): void {
    this.loopHealth.started = true;
    this.worker.run().then(
      () => {
        if (!this.loopHealth.closing) this.loopHealth.die('the worker loop ended without being asked to');
      },
      (err: Error) => this.loopHealth.die(`the worker loop stopped: ${err.message}`),
    );
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  check(): { ok: boolean; error?: string } {
    return this.loopHealth.check();
  }

  async close(): Promise<void> {
    this.loopHealth.closing = true;
    this.opts.health?.unregister(this);
    await this.worker.close().catch(() => undefined);
    // BullMQ does not close a connection it was given.
    this.connection.disconnect();
  }

}
