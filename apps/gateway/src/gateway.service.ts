import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type Redis from 'ioredis';
import { CONFIG, createRedis, gatewayMetrics, LOGGER, Logger, perLabel, PRISMA, REDIS, SECRET_BOX } from '@app/common';
import type { GatewayConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import type { GatewayReadCache } from '@app/gateway';
import { defaultProfiles, GatewayManager, gatewayManagerOptions, gatewayReadCache, InProcessRpcCaller, LocationSource, RedisTerminalsStore, ReplicaStatus } from '@app/gateway';
import { TakeCounterWork } from '@app/domain/counter';
import { DialectRouter, ProcessedRequests, readingDialects } from '@app/domain/rpc';
import { enqueueCounterSettle, JobEnqueuer, RedisCounterSignals, RpcClient } from '@app/queue';

/** Starts this replica's gateway manager with the app and drains it on shutdown. */
@Injectable()
export class GatewayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly manager: GatewayManager;
  private readonly subscriber: Redis;
  /** The counter pump's settle jobs. */
  private readonly jobs: JobEnqueuer;
  /** GATEWAY_READ_CACHE with GATEWAY_READS=local. */
  private readonly readCache?: GatewayReadCache;

  constructor(
    @Inject(CONFIG) config: GatewayConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(REDIS) redis: Redis,
    @Inject(SECRET_BOX) secretBox: SecretBox,
    @Inject(LOGGER) logger: Logger,
  ) {
    const opts = gatewayManagerOptions(config);
    this.subscriber = createRedis(config.REDIS_URL, 'blocking');
    const processed = new ProcessedRequests(prisma);
    const log = logger.child({ replicaId: opts.replicaId });
    this.readCache = gatewayReadCache(config, log);
    this.jobs = new JobEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    const counterLog = log.child({ component: 'counter' });
    this.manager = new GatewayManager(opts, {
      redis,
      subscriber: this.subscriber,
      rpc: new RpcClient({
        redisUrl: config.REDIS_URL,
        prefix: config.QUEUE_PREFIX,
        replicaId: opts.replicaId,
        transport: config.RPC_TRANSPORT,
        // A state-changing request answered with an error by the gateway is first settled in processed_requests.
        claim: (job, error) => processed.claimAtDeadline(job, error),
        logger: log.child({ component: 'rpc-client' }),
      }),
      // GATEWAY_READS=local: reads are answered here, on this app's Postgres pool (GATEWAY_READ_CACHE: from the
      // copy of the orders read, while Postgres announces their changes); changes go to the workers.
      reads: config.GATEWAY_READS === 'local' ? new InProcessRpcCaller(readRouter(prisma, log, this.readCache)) : undefined,
      readCache: this.readCache,
      locations: new LocationSource(prisma, secretBox),
      profiles: defaultProfiles(),
      logger: log,
      counter: {
        port: new TakeCounterWork({ prisma, signals: new RedisCounterSignals(redis, config.QUEUE_PREFIX, counterLog), log: counterLog }),
        settler: { settle: async (job) => void (await enqueueCounterSettle(this.jobs, job)) },
        terminals: new RedisTerminalsStore(redis, config.QUEUE_PREFIX),
      },
    });
  }

  get replicaId(): string {
    return this.manager.replicaId;
  }

  status(): ReplicaStatus {
    return this.manager.status();
  }

  ownedLocationIds(): string[] {
    return this.manager.ownedLocationIds();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.readCache?.start();
    await this.manager.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.manager.stop();
    await this.readCache?.close();
    await this.jobs.close();
    this.subscriber.disconnect();
  }
}

/**
 * The dialects' reads as the gateway runs them: no read reaches the events pipeline (HandleEventV1 is a change).
 * Their time in Postgres is epos_relay_gateway_read_db_duration_seconds, one bound child per method.
 */
function readRouter(prisma: PrismaClient, logger: Logger, cache?: GatewayReadCache): DialectRouter {
  const events = { ingest: () => Promise.reject(new Error('Dojo events are applied by the workers, not by a gateway read')) };
  const histogram = gatewayMetrics().readDbDuration;
  const db = perLabel((method) => histogram.labels(method));
  const observe = {
    replayed: () => undefined, // a read is never answered from a stored response
    dbTime: (method: string, seconds: number) => db(method).observe(seconds),
  };
  return new DialectRouter({ prisma, logger: logger.child({ component: 'reads' }), events, observe, orderCache: cache?.orders }, readingDialects());
}
