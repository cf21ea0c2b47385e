import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, HEALTH, HealthRegistry, LOGGER, Logger, PRISMA, pipelineMetrics, SECRET_BOX } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import { IngestDojoEvent } from '@app/domain/events';
import { dojoIntentReader, LocationCredentials, ReconcilePaymentIntents } from '@app/domain/payment-intents';
import { DojoEventsSweeper } from '@app/domain/events';
import { DojoEventsRepository } from '@app/domain/events';
import { ApplyDojoEvent } from '@app/domain/events';
import { BullmqEventEnqueuer, DojoEventsWorker } from '@app/queue';

/**
 * The Dojo events pipeline in the worker app: a queue worker applying stored
 * events (QueueName.DojoEvents) and the sweeper that re-enqueues stored events
 * that never reached the queue (Redis down at ingest time), and the
 * reconciler that reads online payment intents left open from Dojo and feeds
 * what it finds to the same pipeline.
 */
@Injectable()
export class EventsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly worker: DojoEventsWorker;
  private readonly enqueuer: BullmqEventEnqueuer;
  private readonly sweeper: DojoEventsSweeper;
  private readonly reconciler: ReconcilePaymentIntents;
  private readonly reconcileEveryMs: number;

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(LOGGER) logger: Logger,
    @Inject(HEALTH) health: HealthRegistry,
    @Inject(SECRET_BOX) secretBox: SecretBox,
  ) {
    const log = logger.child({ component: 'dojo-events' });
    const pipeline = pipelineMetrics();
    const dojo = new DojoClient({ baseUrl: config.DOJO_API_URL, apiVersion: config.DOJO_API_VERSION, timeoutMs: config.DOJO_TIMEOUT_MS, maxAttempts: 2 });
    const credentials = new LocationCredentials(prisma, secretBox);
    const dojoIntents = dojoIntentReader(dojo, credentials);
    this.worker = new DojoEventsWorker(
      { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, concurrency: config.EVENTS_CONCURRENCY, health },
      new ApplyDojoEvent(prisma, log, {
        maxAttempts: config.EVENTS_MAX_ATTEMPTS,
        dojoIntents,
        observe: { applied: (n) => pipeline.eventsTogether.observe(n), sharedFailed: () => pipeline.eventsSharedFailed.inc() },
      }),
      log,
    );
    this.enqueuer = new BullmqEventEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    this.sweeper = new DojoEventsSweeper(new DojoEventsRepository(prisma), this.enqueuer, log, {
      intervalMs: config.EVENTS_SWEEP_INTERVAL_MS,
      staleAfterMs: config.EVENTS_SWEEP_AFTER_MS,
    });
    const recLog = logger.child({ component: 'payment-intent-reconciler' });
    this.reconciler = new ReconcilePaymentIntents(
      prisma,
      dojo,
      credentials,
      new IngestDojoEvent(new DojoEventsRepository(prisma), this.enqueuer, recLog),
      recLog,
      { baseMs: config.PAYMENT_INTENT_CHECK_AFTER_MS, maxMs: config.PAYMENT_INTENT_CHECK_MAX_MS },
    );
    this.reconcileEveryMs = config.PAYMENT_INTENT_RECONCILE_INTERVAL_MS;
  }

  onApplicationBootstrap(): void {
    this.worker.start();
    this.sweeper.start();
    this.reconciler.start(this.reconcileEveryMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
    await this.reconciler.stop();
    await this.worker.close();
    await this.enqueuer.close();
  }
}
