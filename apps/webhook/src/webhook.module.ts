import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { CoreModule, LOGGER, Logger, PRISMA, SECRET_BOX } from '@app/common';
import type { WebhookConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import { BullmqEventEnqueuer, IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { AcceptDojoWebhook } from '@app/domain/events/usecases/accept-dojo-webhook.usecase';
import { DojoWebhookController } from './dojo-webhook.controller';

/** Root module of the webhook app: stores and enqueues Dojo events; the worker app applies them. */
@Module({})
export class WebhookModule implements OnApplicationShutdown {
  constructor(@Inject(BullmqEventEnqueuer) private readonly enqueuer: BullmqEventEnqueuer) {}

  static forRoot(config: WebhookConfig, logger: Logger): DynamicModule {
    return {
      module: WebhookModule,
      imports: [CoreModule.forRoot('webhook', config, logger)],
      controllers: [DojoWebhookController],
      providers: [
        { provide: BullmqEventEnqueuer, useFactory: () => new BullmqEventEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX }) },
        {
          provide: IngestDojoEvent,
          inject: [PRISMA, BullmqEventEnqueuer, LOGGER],
          useFactory: (prisma: PrismaClient, enqueuer: BullmqEventEnqueuer, log: Logger) => new IngestDojoEvent(prisma, enqueuer, log),
        },
        {
          provide: AcceptDojoWebhook,
          inject: [PRISMA, SECRET_BOX, IngestDojoEvent, LOGGER],
          useFactory: (prisma: PrismaClient, box: SecretBox, ingest: IngestDojoEvent, log: Logger) => new AcceptDojoWebhook(prisma, box, ingest, log),
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.enqueuer.close();
  }
}
