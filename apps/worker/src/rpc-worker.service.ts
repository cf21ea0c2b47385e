import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type Redis from 'ioredis';
import { CONFIG, HEALTH, HealthRegistry, LOGGER, Logger, perLabel, PRISMA, REDIS, workerMetrics } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { IngestDojoEvent } from '@app/domain/events';
import { DojoEventsRepository } from '@app/domain/events';
import { DialectRouter, dialects } from '@app/domain/rpc';
import { BullmqEventEnqueuer, RedisCounterSignals, RpcWorkerHost } from '@app/queue';

/**
 * Serves Dojo's JSON-RPC requests: takes jobs from the RPC queue (QUEUE_PREFIX,
 * WORKER_CONCURRENCY at a time) and answers them with the RpcDispatcher.
 * Scale out by running more worker processes. On shutdown the queue worker is
 * closed (in-flight jobs finish; a signature wait ends with the venue's default)
 * before Prisma disconnects.
 */
@Injectable()
export class RpcWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly host: RpcWorkerHost;
  private readonly enqueuer: BullmqEventEnqueuer;
  private readonly counter: RedisCounterSignals;
  private readonly log: Logger;

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(LOGGER) logger: Logger,
    @Inject(HEALTH) health: HealthRegistry,
    @Inject(REDIS) redis: Redis,
  ) {
    this.log = logger.child({ component: 'rpc-worker' });
    this.enqueuer = new BullmqEventEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    const ingest = new IngestDojoEvent(new DojoEventsRepository(prisma), this.enqueuer, this.log);
    const m = workerMetrics();
    this.counter = new RedisCounterSignals(redis, config.QUEUE_PREFIX, this.log);
    const replays = perLabel((method) => m.replays.labels(method));
    const db = perLabel((method) => m.dbDuration.labels(method));
    // One dispatcher per wire dialect; each job names its own (RpcJob.dialect).
    const router = new DialectRouter({
      prisma,
      logger: this.log,
      events: { ingest: (cmd) => ingest.execute(cmd) },
      // epos_relay_worker_replays_total / _db_duration_seconds, one bound child per method.
      observe: {
        replayed: (method) => replays(method).inc(),
        dbTime: (method, seconds) => db(method).observe(seconds),
      },
    }, dialects({
      tablesLockTtlMs: config.TABLES_LOCK_TTL_MS,
      connectPatLockTtlMs: config.CONNECT_PAT_LOCK_TTL_MS,
      // Pay at counter: notifications and signature requests publish their events; a signature waits for the POS (holding a job slot).
      counter: this.counter,
    }));
    this.host = new RpcWorkerHost({
      redisUrl: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      concurrency: config.WORKER_CONCURRENCY,
      transport: config.RPC_TRANSPORT,
      claimIdleMs: config.RPC_CLAIM_IDLE_MS,
      concentrate: config.RPC_CONCENTRATE,
      helpAfterMs: config.RPC_HELP_AFTER_MS,
      handler: (job) => router.handle(job),
      refuse: (job, message) => router.refuse(job, message),
      logger: this.log,
      health,
      onError: (err, job) => this.log.error({ err, rpcId: job.rpcId, locationId: job.locationId, traceId: job.traceId }, 'rpc job failed'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.host.start();
    await this.host.waitUntilReady();
    this.log.info('rpc worker ready');
  }

  async beforeApplicationShutdown(): Promise<void> {
    // A signature may wait for the POS up to 70 s, far past SHUTDOWN_TIMEOUT_MS: the waits end now with the venue's
    // default, so their jobs answer before the close instead of being run (and the POS asked) again by another worker.
    this.counter.stop();
    await this.host.close();
    await this.enqueuer.close();
    this.log.info('rpc worker closed');
  }
}
