import type { Job} from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { HealthRegistry, Logger } from '@app/common';
import type { RegistrationJob } from './catalog';
import { JobName, QueueName } from './catalog';
import { JobEnqueuer } from './enqueuer';
import { QueueWorker } from './worker-host';

/** How long a schedule waits for Redis before it leaves the location to the sweep (BullmqRegistrationScheduler.schedule). */
export const SCHEDULE_WAIT_MS = 5_000;

export interface RegistrationRetry {
  /** Attempts of one registration before it is marked failed. */
  attempts: number;
  /** First retry delay; BullMQ doubles it per attempt. */
  backoffMs: number;
}

/**
 * The BullMQ adapter of the domain's RegistrationScheduler port: a job per
 * location on QueueName.Registration, with attempts and exponential backoff
 * kept in Redis (so a restart resumes it). Used by the admin app (a location
 * saved or re-synced) and by the worker's sweep of locations left `pending`.
 */
export class BullmqRegistrationScheduler {
  private readonly jobs: JobEnqueuer;
  private readonly waitMs: number;

  constructor(
    opts: { redisUrl: string; prefix: string; waitMs?: number },
    private readonly retry: RegistrationRetry,
    private readonly logger: Logger,
  ) {
    this.jobs = new JobEnqueuer(opts);
    this.waitMs = opts.waitMs ?? SCHEDULE_WAIT_MS;
  }

  /**
   * Schedules the location's registration (below), waiting at most SCHEDULE_WAIT_MS. BullMQ waits for its
   * connection to be ready before a command, without end while Redis is down: an operator's change (onboarding, a
   * key) must not hang on it. Past the bound the schedule is left to finish when Redis answers again, and the
   * location, `pending`, is scheduled by the sweep meanwhile.
   */
  async schedule(locationId: string, opts: { now?: boolean } = {}): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.waitMs);
      timer.unref();
    });
    const outcome = await Promise.race([this.scheduleNow(locationId, opts), late]).finally(() => clearTimeout(timer));
    if (outcome === 'late') this.logger.warn({ locationId, waitedMs: this.waitMs }, 'capability registration not scheduled in time (Redis not answering); the sweep will retry');
  }

  /**
   * Idempotent: a location has at most one waiting/delayed job. With `now`
   * (the set, key or Dojo URL changed, a re-sync or a replay) the registration
   * starts again from nothing: a job still queued (a delayed retry above all,
   * whose attempts are spent) is replaced by a fresh one with every attempt,
   * and a job already running gets a fresh follow-up so the newest set is what
   * ends up registered (the running one is left alone). Never throws: a
   * schedule that cannot reach Redis is picked up by the sweep, since the
   * location stays `pending`.
   */
  private async scheduleNow(locationId: string, opts: { now?: boolean }): Promise<void> {
    try {
      const jobId = `reg.${locationId}`;
      const existing = await this.jobs.getJob(JobName.RegisterCapabilities, jobId);
      const state = existing ? await existing.getState() : undefined;
      let running = state === 'active';
      const queued = state !== undefined && !running && state !== 'completed' && state !== 'failed' && state !== 'unknown';
      if ((queued || running) && !opts.now) return;
      // Promoting it would keep its attemptsMade: the new set or key would run on the old registration's last
      // attempts, and one more transient failure would make it a dead letter. remove() refuses a job that started
      // meanwhile (it holds a lock): that one is running, and gets the follow-up.
      if (queued) running = !(await existing!.remove().then(() => true, () => false));
      await this.jobs.add(
        JobName.RegisterCapabilities,
        { locationId },
        {
          // A job already running may be registering an older set: the follow-up gets its own id.
          jobId: running ? `${jobId}.${Date.now()}` : jobId,
          attempts: this.retry.attempts,
          backoff: { type: 'exponential', delay: this.retry.backoffMs },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    } catch (err) {
      this.logger.warn({ locationId, err: (err as Error).message }, 'could not schedule capability registration; the sweep will retry');
    }
  }

  async close(): Promise<void> {
    await this.jobs.close();
  }
}

/** What registers one location's capabilities (the domain's RegisterCapabilities). */
export interface CapabilityRegistrar {
  execute(
    locationId: string,
    opts: { finalAttempt: boolean },
  ): Promise<
    | { outcome: 'registered'; capabilities: string[] }
    | { outcome: 'gone' }
    | { outcome: 'refused' | 'retry'; error: string; dead?: boolean; attempts?: number }
    | { outcome: 'superseded'; error: string }
  >;
}

/**
 * Consumes QueueName.Registration: one registration attempt per job run. A
 * refusal by Dojo fails the job for good; other failures are retried with the
 * job's backoff, the last attempt marking the location failed.
 */
export class CapabilityRegistrationWorker {
  private readonly worker: QueueWorker<typeof QueueName.Registration>;

  constructor(
    opts: { redisUrl: string; prefix: string; concurrency: number; health?: HealthRegistry },
    private readonly register: CapabilityRegistrar,
    private readonly logger: Logger,
  ) {
    this.worker = new QueueWorker(
      { queue: QueueName.Registration, ...opts, logger, describe: (d) => ({ locationId: d.locationId }) },
      (job) => this.process(job),
    );
  }

  private async process(job: Job<RegistrationJob>): Promise<void> {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const r = await this.register.execute(job.data.locationId, { finalAttempt });
    const log = { locationId: job.data.locationId, attempt: job.attemptsMade + 1 };
    if (r.outcome === 'registered') this.logger.info({ ...log, capabilities: r.capabilities.length }, 'capabilities registered with Dojo');
    // Its failure was not recorded: the set or key changed, or another attempt registered, after it started. Done.
    if (r.outcome === 'superseded') this.logger.info({ ...log, err: r.error }, 'capability registration failed but was overtaken by a newer change; not recorded');
    if ((r.outcome === 'refused' || r.outcome === 'retry') && r.dead) {
      this.logger.warn(
        { ...log, deadLetter: `registration:${job.data.locationId}`, attempts: r.attempts, refused: r.outcome === 'refused', err: r.error },
        'capability registration is dead; replay or discard it through /v1/dead-letters',
      );
      throw new UnrecoverableError(r.error);
    }
    if (r.outcome === 'refused') {
      this.logger.warn({ ...log, err: r.error }, 'Dojo refused the capability registration');
      throw new UnrecoverableError(r.error);
    }
    if (r.outcome === 'retry') {
      this.logger.warn({ ...log, err: r.error, finalAttempt }, 'capability registration failed; will retry');
      throw new Error(r.error);
    }
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
