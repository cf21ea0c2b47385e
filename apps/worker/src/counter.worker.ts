import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { CONFIG, HEALTH, HealthRegistry, LOGGER, Logger, PRISMA, REDIS } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { SettleCounterTransaction } from '@app/domain/counter';
import { CounterSettleWorker, RedisCounterSignals } from '@app/queue';

/** Settle jobs handled at once per process (each is one short transaction). */
const CONCURRENCY = 10;

/**
 * Pay at counter's settle consumer: each outcome the gateway read (QueueName.Counter)
 * is settled once by SettleCounterTransaction, which also records a successful
 * sale on its order. Retried with the job's backoff while Postgres fails.
 */
@Injectable()
export class CounterWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly worker: CounterSettleWorker;

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(REDIS) redis: Redis,
    @Inject(LOGGER) logger: Logger,
    @Inject(HEALTH) health: HealthRegistry,
  ) {
    const log = logger.child({ component: 'counter' });
    const signals = new RedisCounterSignals(redis, config.QUEUE_PREFIX, log);
    const settle = new SettleCounterTransaction({ prisma, signals, log });
    this.worker = new CounterSettleWorker({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, concurrency: CONCURRENCY, health }, settle, log);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker.start();
    await this.worker.waitUntilReady();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }
}
