import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { CoreModule, createRedis, LOGGER, Logger, PRISMA, SECRET_BOX } from '@app/common';
import type { WebhookConfig } from '@app/config';
import { Channels, LocationChangedMessage } from '@app/contracts';
import type { PrismaClient, SecretBox } from '@app/db';
import { IngestDojoEvent } from '@app/domain/events';
import { BatchedDojoEventStore, DojoEventsRepository, rawOnPg } from '@app/domain/events';
import { BullmqEventEnqueuer } from '@app/queue';
import { AcceptDojoWebhook } from '@app/domain/events';
import { WebhookAccountCache, WebhookAccountsRepository } from '@app/domain/events';
import { DojoWebhookHandler } from './dojo-webhook.handler';

/** How long a stored row waits for others to share its events job (BullmqEventEnqueuer lingerMs). */
const ENQUEUE_LINGER_MS = 5;

/** Subscriber connection that drops a location's cached account at once when the admin publishes a change. */
const LOCATION_CHANGES = Symbol('LOCATION_CHANGES');

function subscribeLocationChanges(config: WebhookConfig, cache: WebhookAccountCache, logger: Logger): Redis {
  const sub = createRedis(config.REDIS_URL, 'blocking');
  const changed = Channels.locationChanged(config.QUEUE_PREFIX);
  sub.on('message', (channel: string, message: string) => {
    if (channel !== changed) return;
    try {
      const msg = JSON.parse(message) as LocationChangedMessage;
      if (typeof msg?.locationId === 'string') cache.forgetLocation(msg.locationId);
    } catch {
      // not ours to judge: the cache entry expires by itself
    }
  });
  // Best effort: without the subscription, entries still expire after a few seconds.
  sub.subscribe(changed).catch((err: Error) => logger.warn({ err: err.message }, 'could not subscribe to location changes'));
  return sub;
}

/** Root module of the webhook app: stores and enqueues Dojo events; the worker app applies them. */
@Module({})
export class WebhookModule implements OnApplicationShutdown {
  constructor(
    @Inject(BullmqEventEnqueuer) private readonly enqueuer: BullmqEventEnqueuer,
    @Inject(LOCATION_CHANGES) private readonly subscriber: Redis,
  ) {}

  static forRoot(config: WebhookConfig, logger: Logger): DynamicModule {
    return {
      module: WebhookModule,
      // Ready without Redis: an event is stored in Postgres before the answer, and its enqueue is not waited for (the
      // sweeper enqueues what Redis missed), so a Redis blip must not take every replica out of the Service.
      imports: [CoreModule.forRoot('webhook', config, logger, { readinessNeedsRedis: false })],
      providers: [
        DojoWebhookHandler,
        // The answer does not wait for the enqueue (IngestDojoEvent), so the rows of a few milliseconds of deliveries
        // share a job: at 1,000 deliveries/s about 5 a job instead of 1.
        { provide: BullmqEventEnqueuer, useFactory: () => new BullmqEventEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, lingerMs: ENQUEUE_LINGER_MS }) },
        {
          provide: IngestDojoEvent,
          inject: [PRISMA, BullmqEventEnqueuer, LOGGER],
          useFactory: (prisma: PrismaClient, enqueuer: BullmqEventEnqueuer, log: Logger) => new IngestDojoEvent(new BatchedDojoEventStore(new DojoEventsRepository(rawOnPg(prisma))), enqueuer, log),
        },
        {
          provide: WebhookAccountCache,
          inject: [PRISMA, SECRET_BOX, LOGGER],
          useFactory: (prisma: PrismaClient, box: SecretBox, log: Logger) => new WebhookAccountCache(new WebhookAccountsRepository(rawOnPg(prisma)), box, log),
        },
        {
          provide: LOCATION_CHANGES,
          inject: [WebhookAccountCache, LOGGER],
          useFactory: (cache: WebhookAccountCache, log: Logger) => subscribeLocationChanges(config, cache, log),
        },
        {
          provide: AcceptDojoWebhook,
          inject: [PRISMA, SECRET_BOX, IngestDojoEvent, LOGGER, WebhookAccountCache],
          useFactory: (prisma: PrismaClient, box: SecretBox, ingest: IngestDojoEvent, log: Logger, cache: WebhookAccountCache) =>
            new AcceptDojoWebhook(new WebhookAccountsRepository(rawOnPg(prisma)), box, ingest, log, cache),
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber.disconnect();
    await this.enqueuer.close();
  }
}
