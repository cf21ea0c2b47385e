import type { Job, WorkerOptions } from 'bullmq';
import { Worker } from 'bullmq';
import type Redis from 'ioredis';
import type { HealthIndicator, HealthRegistry, Logger} from '@app/common';
import { createRedis, workerMetrics } from '@app/common';
import type { Histogram } from 'prom-client';
import type { QueueName, QueuePayloads } from './catalog';
import { queuePrefix } from './catalog';

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
 * How long the worker's Redis connection may be down, or its loop keep failing,
 * before /health says so (ioredis reconnects and BullMQ retries on their own).
 */
const GRACE_MS = 5_000;
/** An error streak counts as over when no error came for this long. */
const ERROR_QUIET_MS = 10_000;
/** Loop errors are logged at most this often (a Redis outage would otherwise log one per retry). */
const ERROR_LOG_EVERY_MS = 10_000;

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
  private started = false;
  private closing = false;
  private dead?: string;
  private lastError?: string;
  private lastErrorAt = 0;
  private lastErrorLoggedAt = 0;
  /** When the current run of errors began (reset by a sign of progress: a job finished, the queue drained, a reconnect). */
  private errorsSince?: number;
  private downSince?: number;

  constructor(
    private readonly opts: QueueWorkerOptions<Q>,
    processor: (job: Job<QueuePayloads[Q]>) => Promise<unknown>,
  ) {
    this.name = `worker:${opts.queue}`;
    this.connection = createRedis(opts.redisUrl, 'blocking');
    this.connection.on('ready', () => {
      this.downSince = undefined;
      this.errorsSince = undefined;
    });
    this.connection.on('close', () => (this.downSince ??= Date.now()));
    this.connection.on('end', () => {
      if (!this.closing) this.die('its Redis connection was closed for good');
    });
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
    this.worker.on('error', (err) => {
      const now = Date.now();
      // A streak is errors less than ERROR_QUIET_MS apart; a sporadic error starts a new one.
      if (this.errorsSince === undefined || now - this.lastErrorAt >= ERROR_QUIET_MS) this.errorsSince = now;
      this.lastError = err.message;
      this.lastErrorAt = now;
      if (now - this.lastErrorLoggedAt >= ERROR_LOG_EVERY_MS) {
        this.lastErrorLoggedAt = now;
        this.opts.logger?.warn({ queue: opts.queue, err: err.message }, 'queue worker error');
      }
    });
    const progress = () => (this.errorsSince = undefined);
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
      if (!this.closing) this.die('the worker closed without being asked to');
    });
    opts.health?.register(this);
  }

  /** Starts the loop; a loop that ends with an error marks the worker dead. */
  start(): void {
    this.started = true;
    this.worker.run().then(
      () => {
        if (!this.closing) this.die('the worker loop ended without being asked to');
      },
      (err: Error) => this.die(`the worker loop stopped: ${err.message}`),
    );
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  check(): { ok: boolean; error?: string } {
    if (this.dead) return { ok: false, error: `${this.opts.queue} worker is dead: ${this.dead}` };
    if (!this.started) return { ok: false, error: `${this.opts.queue} worker has not started` };
    const now = Date.now();
    const why = this.lastError ? ` (last error: ${this.lastError})` : '';
    if (this.downSince !== undefined && now - this.downSince >= GRACE_MS) {
      return {
        ok: false,
        error: `${this.opts.queue} worker's Redis connection has been ${this.connection.status} for ${Math.round((now - this.downSince) / 1000)} s${why}`,
      };
    }
    if (this.errorsSince !== undefined && now - this.lastErrorAt < ERROR_QUIET_MS && now - this.errorsSince >= GRACE_MS) {
      return { ok: false, error: `${this.opts.queue} worker's loop has been failing for ${Math.round((now - this.errorsSince) / 1000)} s${why}` };
    }
    return { ok: true };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.opts.health?.unregister(this);
    await this.worker.close().catch(() => undefined);
    // BullMQ does not close a connection it was given.
    this.connection.disconnect();
  }

  private die(reason: string): void {
    if (this.dead || this.closing) return;
    this.dead = reason;
    this.opts.logger?.error({ queue: this.opts.queue, reason }, 'queue worker stopped working');
  }
}
