import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type Redis from 'ioredis';
import { CONFIG, createRedis, LOGGER, Logger, PRISMA, REDIS, SECRET_BOX } from '@app/common';
import type { GatewayConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import { defaultProfiles, GatewayManager, gatewayManagerOptions, LocationSource, ReplicaStatus } from '@app/gateway';
import { ProcessedRequests } from '@app/domain/rpc';
import { RpcClient } from '@app/queue';

/** Starts this replica's gateway manager with the app and drains it on shutdown. */
@Injectable()
export class GatewayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly manager: GatewayManager;
  private readonly subscriber: Redis;

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
      locations: new LocationSource(prisma, secretBox),
      profiles: defaultProfiles(),
      logger: log,
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
    await this.manager.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.manager.stop();
    this.subscriber.disconnect();
  }
}
