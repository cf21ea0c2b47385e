import type { Job } from 'bullmq';
import type { HealthRegistry, Logger} from '@app/common';
import { pipelineMetrics } from '@app/common';
import type { DojoEventJob } from './catalog';
import { JobName, QueueName } from './catalog';
import { JobEnqueuer } from './enqueuer';
import { QueueWorker } from './worker-host';

export interface BullmqEventEnqueuerOptions {
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
  /** An add() that takes longer fails (the row stays for the sweeper). */
  timeoutMs?: number;
}

/**
 * The BullMQ adapter of the domain's EventEnqueuer port: enqueues stored event
 * rows on QueueName.DojoEvents with jobId = row id, so double enqueues are harmless.
 */
export class BullmqEventEnqueuer {
  private readonly jobs: JobEnqueuer;
  private readonly timeoutMs: number;
  /** Rows asked for in this turn of the event loop: they go to Redis together in one addBulk (one round trip). */
  private batch: { job: DojoEventJob; done: (err?: Error) => void }[] = [];
  /** The addBulk calls not yet answered (close() waits for them). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(opts: BullmqEventEnqueuerOptions) {
    this.timeoutMs = opts.timeoutMs ?? 1_000;
    this.jobs = new JobEnqueuer(opts);
  }

  async enqueue(eventRowId: string, facts?: DojoEventJob['facts']): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const add = new Promise<void>((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => this.flush());
      this.batch.push({ job: facts ? { eventRowId, facts } : { eventRowId }, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
    add.catch(() => undefined);
    try {
      await Promise.race([
        add,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`enqueue took longer than ${this.timeoutMs} ms`)), this.timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const opts = {
      attempts: 5,
      backoff: { type: 'exponential' as const, delay: 500 },
      // Finished jobs are removed: the job id only needs to de-duplicate while a job waits or runs, and a
      // later enqueue of the same row (the sweeper re-checking a 'pending_payment' row) must not be swallowed.
      removeOnComplete: true,
      // A job that failed every attempt is removed, so the sweeper can enqueue the row again later.
      removeOnFail: true,
    };
    // jobId = row id: an add of a row already waiting is a no-op, also within one batch.
    const sent = this.jobs.queue(QueueName.DojoEvents).addBulk(
      batch.map((b) => ({ name: JobName.ApplyDojoEvent, data: b.job, opts: { ...opts, jobId: b.job.eventRowId } })),
    ).then(
      () => batch.forEach((b) => b.done()),
      (err: unknown) => batch.forEach((b) => b.done(err instanceof Error ? err : new Error(String(err)))),
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  /**
   * Sends what is still batched and waits (at most `timeoutMs`) for the adds in flight before closing: callers
   * do not wait for their enqueue (IngestDojoEvent answers once the row is stored), so a shutdown would otherwise
   * leave the last turn's rows to the sweeper.
   */
  async close(): Promise<void> {
    if (this.batch.length) this.flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, this.timeoutMs)))]);
    clearTimeout(timer);
    await this.jobs.close();
  }
}

export interface DojoEventsWorkerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  health?: HealthRegistry;
}

/** What applies one stored event (the domain's ApplyDojoEvent). */
export interface DojoEventApplier {
  execute(cmd: DojoEventJob): Promise<{ outcome: string }>;
}

/** Consumes QueueName.DojoEvents: one job per stored event row, applied by the given use-case. */
export class DojoEventsWorker {
  private readonly worker: QueueWorker<typeof QueueName.DojoEvents>;

  constructor(opts: DojoEventsWorkerOptions, apply: DojoEventApplier, logger: Logger) {
    this.worker = new QueueWorker(
      {
        queue: QueueName.DojoEvents,
        redisUrl: opts.redisUrl,
        prefix: opts.prefix,
        concurrency: opts.concurrency,
        logger,
        health: opts.health,
        describe: (d: DojoEventJob) => ({ eventRowId: d.eventRowId }),
      },
      async (job: Job<DojoEventJob>) => {
        const m = pipelineMetrics();
        let outcome: string;
        try {
          outcome = (await apply.execute({ eventRowId: job.data.eventRowId, facts: job.data.facts })).outcome;
        } catch (err) {
          m.eventsFailed.inc();
          throw err;
        }
        m.eventsApplied.labels(outcome).inc();
        return outcome;
      },
    );
  }

  start(): void {
    this.worker.start();
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
