import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import type { PrismaOptions } from '@app/db';
import { createPrisma, PrismaClient, SecretBox } from '@app/db';
import type { CommonConfig } from '@app/config';
import { createLogger, Logger } from './logger';
import { createRedis } from './redis';
import { HealthController, HealthRegistry } from './health';
import { announcementMetrics, enableDefaultMetrics, MetricsController } from './metrics';
import { APP_NAME, CONFIG, HEALTH, LOGGER, PRISMA, REDIS, SECRET_BOX } from './tokens';

/** The pool of an app as its configuration asks for it (DB_* variables), named after the app, its announcements counted. */
export function prismaOptions(config: CommonConfig, app: string, log?: Logger): PrismaOptions {
  const counted = announcementMetrics();
  return {
    announcementCounts: { sent: (n) => counted.announced.inc(n), failed: () => counted.failures.inc() },
    poolSize: config.DB_POOL_SIZE,
    idleTimeoutMs: config.DB_POOL_IDLE_TIMEOUT_MS,
    acquireTimeoutMs: config.DB_ACQUIRE_TIMEOUT_MS,
    preparedStatements: config.DB_PREPARED_STATEMENTS,
    readLanes: config.DB_READ_LANES,
    announceAfterCommit: config.DB_ANNOUNCE_AFTER_COMMIT,
    app,
    ...(log ? { log } : {}),
  };
}

/**
 * Infrastructure every app needs: validated config, Prisma (Postgres), a Redis
 * command connection, the logger, the secret box, and GET /health (with the
 * HealthRegistry that components such as queue workers report to), and GET
 * /metrics (Prometheus, see ./metrics.ts).
 */
@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** `readinessNeedsRedis: false` leaves Redis out of GET /health/ready (see HealthRegistry). */
  static forRoot(app: string, config: CommonConfig, logger?: Logger, opts: { readinessNeedsRedis?: boolean } = {}): DynamicModule {
    const log = logger ?? createLogger(app, config.LOG_LEVEL);
    enableDefaultMetrics();
    return {
      module: CoreModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_NAME, useValue: app },
        { provide: HEALTH, useValue: new HealthRegistry(opts.readinessNeedsRedis ?? true) },
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: log },
        { provide: SECRET_BOX, useValue: new SecretBox(config.EPOS_RELAY_ENCRYPTION_KEY, config.EPOS_RELAY_ENCRYPTION_KEYS_OLD) },
        {
          provide: PRISMA,
          useFactory: () => createPrisma(config.DATABASE_URL, prismaOptions(config, app, log)),
        },
        { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL) },
      ],
      exports: [APP_NAME, HEALTH, CONFIG, LOGGER, SECRET_BOX, PRISMA, REDIS],
    };
  }

  async onApplicationShutdown() {
    await this.prisma.$disconnect().catch(() => undefined); // best effort on shutdown: the pool goes with the process
    this.redis.disconnect();
  }
}
