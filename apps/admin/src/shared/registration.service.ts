import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { CONFIG, createRedis, LOGGER, Logger, PRISMA, SECRET_BOX } from '@app/common';
import type { AdminConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import { RegisterCapabilities, RegistrationScheduler } from '@app/domain/admin';
import { REGISTRATION_QUEUE } from './tokens';

/** How often locations left `pending` are scheduled again. */
const SWEEP_MS = 60_000;

interface RegistrationJob {
  locationId: string;
}

/**
 * Durable capability registration: a BullMQ job per location with attempts
 * and exponential backoff (kept in Redis, so a restart resumes it). At boot,
 * and every minute, locations still `pending` in the database are scheduled
 * again, which covers a schedule that was lost (e.g. Redis down when the
 * location was saved).
 */
@Injectable()
export class RegistrationService implements RegistrationScheduler, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly queue: Queue<RegistrationJob>;
  private readonly worker: Worker<RegistrationJob>;
  private readonly connections: Redis[] = [];
  private readonly register: RegisterCapabilities;
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: AdminConfig,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(SECRET_BOX) secretBox: SecretBox,
    @Inject(LOGGER) private readonly logger: Logger,
    dojo: DojoClient,
  ) {
    // BullMQ keeps failed registrations' retries itself; the client makes one attempt per job run.
    const oneShot = new DojoClient({ baseUrl: config.DOJO_API_URL, apiVersion: config.DOJO_API_VERSION, timeoutMs: config.DOJO_TIMEOUT_MS, maxAttempts: 1 });
    void dojo;
    this.register = new RegisterCapabilities({ prisma, secretBox, dojo: oneShot });
    const queueConn = createRedis(config.REDIS_URL, 'blocking');
    const workerConn = createRedis(config.REDIS_URL, 'blocking');
    this.connections.push(queueConn, workerConn);
    this.queue = new Queue<RegistrationJob>(REGISTRATION_QUEUE, { connection: queueConn, prefix: config.QUEUE_PREFIX });
    this.queue.on('error', () => undefined);
    this.worker = new Worker<RegistrationJob>(REGISTRATION_QUEUE, (job) => this.process(job), {
      connection: workerConn,
      prefix: config.QUEUE_PREFIX,
      concurrency: 5,
      autorun: false,
    });
    this.worker.on('error', () => undefined);
  }

  async onApplicationBootstrap() {
    void this.worker.run().catch(() => undefined);
    await this.sweep().catch(() => undefined);
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_MS);
    this.sweeper.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.sweeper);
    await this.worker.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    for (const c of this.connections) c.disconnect();
  }

  /**
   * Idempotent: a location has at most one waiting/delayed job. With `now`
   * (the set or key changed, or an explicit re-sync) a delayed retry runs at
   * once, and a job already running gets a follow-up so the newest set is
   * what ends up registered. Never throws: a schedule that cannot reach Redis
   * is picked up by the sweep, since the location stays `pending`.
   */
  async schedule(locationId: string, opts: { now?: boolean } = {}): Promise<void> {
    try {
      const jobId = `reg.${locationId}`;
      const existing = await this.queue.getJob(jobId);
      const state = existing ? await existing.getState() : undefined;
      const live = state !== undefined && state !== 'completed' && state !== 'failed' && state !== 'unknown';
      if (live && state === 'delayed' && opts.now) await existing!.promote().catch(() => undefined);
      if (live && !(state === 'active' && opts.now)) return;
      await this.queue.add(
        'register',
        { locationId },
        {
          // A job already running may be registering an older set: the follow-up gets its own id.
          jobId: live ? `${jobId}.${Date.now()}` : jobId,
          attempts: this.config.ADMIN_REGISTRATION_ATTEMPTS,
          backoff: { type: 'exponential', delay: this.config.ADMIN_REGISTRATION_BACKOFF_MS },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    } catch (err) {
      this.logger.warn({ locationId, err: (err as Error).message }, 'could not schedule capability registration; the sweep will retry');
    }
  }

  /** Schedules every location still `pending` (a lost schedule, or a restart before Redis had it). */
  private async sweep(): Promise<void> {
    const pending = await this.prisma.location.findMany({ where: { registrationState: 'pending' }, select: { id: true } });
    for (const l of pending) await this.schedule(l.id);
  }

  private async process(job: Job<RegistrationJob>): Promise<void> {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const r = await this.register.execute(job.data.locationId, { finalAttempt });
    const log = { locationId: job.data.locationId, attempt: job.attemptsMade + 1 };
    if (r.outcome === 'registered') this.logger.info({ ...log, capabilities: r.capabilities.length }, 'capabilities registered with Dojo');
    if (r.outcome === 'refused') {
      this.logger.warn({ ...log, err: r.error }, 'Dojo refused the capability registration');
      throw new UnrecoverableError(r.error);
    }
    if (r.outcome === 'retry') {
      this.logger.warn({ ...log, err: r.error, finalAttempt }, 'capability registration failed; will retry');
      throw new Error(r.error);
    }
  }
}
