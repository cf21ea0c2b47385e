import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG } from '@app/common';
import type { AdminConfig } from '@app/config';
import type { EventEnqueuer } from '@app/domain/events/ingest-dojo-event.usecase';
import { BullmqEventEnqueuer } from '@app/queue';

/**
 * The admin enqueues Dojo events only when an operator replays dead letters
 * (the worker applies them). A failed enqueue is not lost: the replayed row is
 * 'received' again, and the worker's sweeper enqueues such rows.
 */
@Injectable()
export class EventEnqueuerService implements EventEnqueuer, OnApplicationShutdown {
  private readonly enqueuer: BullmqEventEnqueuer;

  constructor(@Inject(CONFIG) config: AdminConfig) {
    this.enqueuer = new BullmqEventEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
  }

  enqueue(eventRowId: string): Promise<void> {
    return this.enqueuer.enqueue(eventRowId);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.enqueuer.close();
  }
}
