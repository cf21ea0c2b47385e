import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, HEALTH, HealthRegistry, LOGGER, Logger, PRISMA } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { DojoEventsSweeper } from '@app/domain/events';
import { DojoEventsRepository } from '@app/domain/events';
import { ApplyDojoEvent } from '@app/domain/events';
import { BullmqEventEnqueuer, DojoEventsWorker } from '@app/queue';

/**
 * The Dojo events pipeline in the worker app: a queue worker applying stored
 * events (QueueName.DojoEvents) and the sweeper that re-enqueues stored events
 * that never reached the queue (Redis down at ingest time).
 */
@Injectable()
export class EventsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly worker: DojoEventsWorker;
  private readonly enqueuer: BullmqEventEnqueuer;
  private readonly sweeper: DojoEventsSweeper;

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(LOGGER) logger: Logger,
    @Inject(HEALTH) health: HealthRegistry,
  ) {
    const log = logger.child({ component: 'dojo-events' });
    this.worker = new DojoEventsWorker(
      { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, concurrency: config.EVENTS_CONCURRENCY, health },
      new ApplyDojoEvent(prisma, log, { maxAttempts: config.EVENTS_MAX_ATTEMPTS }),
      log,
    );
    this.enqueuer = new BullmqEventEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    this.sweeper = new DojoEventsSweeper(new DojoEventsRepository(prisma), this.enqueuer, log, {
      intervalMs: config.EVENTS_SWEEP_INTERVAL_MS,
      staleAfterMs: config.EVENTS_SWEEP_AFTER_MS,
    });
  }

  onApplicationBootstrap(): void {
    this.worker.start();
    this.sweeper.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
    await this.worker.close();
    await this.enqueuer.close();
  }
}
