import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, HEALTH, HealthRegistry, LOGGER, Logger, PRISMA, SECRET_BOX } from '@app/common';
import { registrationRetry, WorkerConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import { LocationsRepository, RegisterCapabilities, SchedulePendingRegistrations } from '@app/domain/admin';
import { BullmqRegistrationScheduler, CapabilityRegistrationWorker } from '@app/queue';

/** How often locations left `pending` are scheduled again. */
const SWEEP_MS = 60_000;

/**
 * Durable capability registration (PUT /epos/integrations/ws): runs the jobs
 * the admin app schedules, one attempt per run, with the job's attempts and
 * exponential backoff (REGISTRATION_ATTEMPTS, REGISTRATION_BACKOFF_MS). At boot,
 * and every minute, locations still `pending` in the database are scheduled
 * again, which covers a schedule that was lost (e.g. Redis down when the
 * location was saved).
 */
@Injectable()
export class RegistrationWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly worker: CapabilityRegistrationWorker;
  private readonly scheduler: BullmqRegistrationScheduler;
  private readonly sweep: SchedulePendingRegistrations;
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(SECRET_BOX) secretBox: SecretBox,
    @Inject(LOGGER) logger: Logger,
    @Inject(HEALTH) health: HealthRegistry,
  ) {
    this.log = logger.child({ component: 'registration' });
    // BullMQ keeps failed registrations' retries itself; the client makes one attempt per job run.
    const dojo = new DojoClient({ baseUrl: config.DOJO_API_URL, apiVersion: config.DOJO_API_VERSION, timeoutMs: config.DOJO_TIMEOUT_MS, maxAttempts: 1 });
    const locations = new LocationsRepository(prisma);
    const queue = { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX };
    this.worker = new CapabilityRegistrationWorker({ ...queue, concurrency: 5, health }, new RegisterCapabilities({ locations, secretBox, dojo }), this.log);
    this.scheduler = new BullmqRegistrationScheduler(queue, registrationRetry(config), this.log);
    this.sweep = new SchedulePendingRegistrations({ locations, registration: this.scheduler });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker.start();
    await this.sweepOnce();
    this.timer = setInterval(() => void this.sweepOnce(), SWEEP_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.worker.close();
    await this.scheduler.close();
  }

  private async sweepOnce(): Promise<void> {
    await this.sweep.execute().catch((err: Error) => this.log.warn({ err: err.message }, 'sweep of pending registrations failed'));
  }
}
