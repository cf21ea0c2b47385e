import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, LOGGER, Logger } from '@app/common';
import { AdminConfig, registrationRetry } from '@app/config';
import type { RegistrationScheduler } from '@app/domain/admin';
import { BullmqRegistrationScheduler } from '@app/queue';

/**
 * The admin app only schedules capability registrations (a job on the
 * registration queue per location saved or re-synced); apps/worker runs them,
 * with attempts and backoff, and sweeps locations left `pending`.
 */
@Injectable()
export class RegistrationService implements RegistrationScheduler, OnApplicationShutdown {
  private readonly scheduler: BullmqRegistrationScheduler;

  constructor(@Inject(CONFIG) config: AdminConfig, @Inject(LOGGER) logger: Logger) {
    this.scheduler = new BullmqRegistrationScheduler({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX }, registrationRetry(config), logger);
  }

  schedule(locationId: string, opts?: { now?: boolean }): Promise<void> {
    return this.scheduler.schedule(locationId, opts);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler.close();
  }
}
