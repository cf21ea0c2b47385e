import type { Job } from 'bullmq';
import type { HealthRegistry, Logger} from '@app/common';
import { pipelineMetrics } from '@app/common';
import type { DojoEventJob, DojoEventsPayload } from './catalog';
import { eventsOfJob, JobName, MAX_EVENTS_PER_JOB, QueueName } from './catalog';
import { JobEnqueuer } from './enqueuer';
import { QueueWorker } from './worker-host';

export interface BullmqEventEnqueuerOptions {
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
  /** An add() that takes longer fails (the row stays for the sweeper). */
  timeoutMs?: number;
  /**
   * How long the first row asked for waits for others to go in the same job [0: the end of the turn]. For callers
   * that do not wait for their enqueue (the webhook app answers once the row is stored), so a steady trickle of
   * deliveries still makes jobs of several events: fewer passes through BullMQ's scripts, fewer transactions to
   * apply them.
   */
  lingerMs?: number;
}

/**
 * The BullMQ adapter of the domain's EventEnqueuer port: enqueues stored event rows on QueueName.DojoEvents. The
 * rows asked for in one turn of the event loop (or within `lingerMs` of the first) go in one round trip, and
 * together in one job (up to MAX_EVENTS_PER_JOB each). A job of one row has jobId = row id, so enqueueing a waiting row again adds nothing; a
 * row enqueued twice in different jobs is applied once all the same (the apply is idempotent under the row's lock).
 */
export class BullmqEventEnqueuer {
  private readonly jobs: JobEnqueuer;
  private readonly timeoutMs: number;
  /** Rows asked for in this turn of the event loop (or this linger): they go to Redis together in one addBulk (one round trip). */
  private batch: { job: DojoEventJob; done: (err?: Error) => void }[] = [];
  /** The addBulk calls not yet answered (close() waits for them). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lingerMs: number;
  /** The flush the batch waits for. */
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: BullmqEventEnqueuerOptions) {
    this.timeoutMs = opts.timeoutMs ?? 1_000;
    this.lingerMs = opts.lingerMs ?? 0;
    this.jobs = new JobEnqueuer(opts);
  }

  /** Settles once the row's job is added, or fails when the add fails or takes longer than `timeoutMs`. */
  enqueue(eventRowId: string, facts?: DojoEventJob['facts']): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.batch.length === 0) {
        if (this.lingerMs > 0) this.flushTimer = setTimeout(() => this.flush(), this.lingerMs);
        else setImmediate(() => this.flush());
      }
      this.batch.push({ job: facts ? { eventRowId, facts } : { eventRowId }, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
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
    const jobs: { name: typeof JobName.ApplyDojoEvent; data: DojoEventsPayload; opts: typeof opts & { jobId?: string } }[] = [];
    for (let i = 0; i < batch.length; i += MAX_EVENTS_PER_JOB) {
      const chunk = batch.slice(i, i + MAX_EVENTS_PER_JOB);
      // One row: jobId = row id, so an add of a row already waiting is a no-op. Several: BullMQ's own id (a row id
      // would swallow the whole job were that row waiting in another).
      jobs.push(
        chunk.length === 1
          ? { name: JobName.ApplyDojoEvent, data: chunk[0]!.job, opts: { ...opts, jobId: chunk[0]!.job.eventRowId } }
          : { name: JobName.ApplyDojoEvent, data: { events: chunk.map((b) => b.job) }, opts },
      );
    }
    // One timer per add, not per row: the rows of the add wait for the same answer.
    const sent = this.withinTimeout(this.jobs.queue(QueueName.DojoEvents).addBulk(jobs), 'enqueue').then(
      () => batch.forEach((b) => b.done()),
      (err: unknown) => batch.forEach((b) => b.done(err instanceof Error ? err : new Error(String(err)))),
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  /**
   * When the oldest job still in the events queue (waiting, running, or waiting to retry) was added, by the clock of
   * the process that added it; null when the queue is empty. Fails when Redis does not answer within `timeoutMs`.
   * The sweeper leaves the rows stored since then to the jobs ahead of it (DojoEventsSweeper).
   */
  async oldestJobAddedAt(): Promise<Date | null> {
    // The oldest of each: the lists (wait, active) from their tail, the sorted sets (delayed, prioritized) from the
    // first due. A retry's job keeps the time it was first added.
    const read = this.jobs.queue(QueueName.DojoEvents).getJobs(['wait', 'active', 'delayed', 'prioritized'], 0, 0, true);
    const jobs = await this.withinTimeout(read, 'reading the events queue');
    const times = jobs.map((j) => j.timestamp).filter((t) => Number.isFinite(t) && t > 0);
    return times.length ? new Date(Math.min(...times)) : null;
  }

  /** `p`, or a rejection naming `what` when Redis has not answered it within `timeoutMs`. */
  private async withinTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${this.timeoutMs} ms`)), this.timeoutMs)));
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
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

/** What applies a job's stored events (the domain's ApplyDojoEvent), saying what became of each. */
export interface DojoEventApplier {
  executeAll(cmds: DojoEventJob[]): Promise<PromiseSettledResult<{ outcome: string }>[]>;
}

/**
 * Consumes QueueName.DojoEvents: each job's events are applied by the given use-case at once (ApplyDojoEvent puts
 * them in one shared transaction where it can). A job whose events all took effect (or died) completes; when one
 * failed (its failure is counted on its row) the job fails and the queue retries it with backoff: its other events
 * are then found applied and left alone.
 */
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
        describe: (d: DojoEventsPayload) => ('events' in d ? { eventRowIds: d.events.map((e) => e.eventRowId) } : { eventRowId: d.eventRowId }),
      },
      async (job: Job<DojoEventsPayload>) => {
        const m = pipelineMetrics();
        const events = eventsOfJob(job.data);
        const settled = await apply.executeAll(events);
        let failure: Error | undefined;
        const outcomes: string[] = [];
        for (const s of settled) {
          if (s.status === 'fulfilled') {
            m.eventsApplied.labels(s.value.outcome).inc();
            outcomes.push(s.value.outcome);
          } else {
            m.eventsFailed.inc();
            failure ??= s.reason instanceof Error ? s.reason : new Error(typeof s.reason === 'string' ? s.reason : 'a dojo event of the job failed');
          }
        }
        if (failure !== undefined) throw failure;
        return outcomes.join(',');
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
