import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG } from '@app/common';
import type { AdminConfig } from '@app/config';
import type { EventEnqueuer } from '@app/domain/events';
import { BullmqEventEnqueuer } from '@app/queue';

/**
 * The admin enqueues Dojo events only when an operator replays dead letters
 * (the worker applies them). A failed enqueue is not lost: the replayed row is
 * 'received' again, and the worker's sweeper enqueues such rows.
 */
@Injectable()
export class EventEnqueuerService implements EventEnqueuer, OnApplicationShutdown {
  /** Opened on the first replay: most admin processes never enqueue an event, and need no connection for it. */
  private enqueuer?: BullmqEventEnqueuer;

  constructor(@Inject(CONFIG) private readonly config: AdminConfig) {}

  enqueue(eventRowId: string): Promise<void> {
    this.enqueuer ??= new BullmqEventEnqueuer({ redisUrl: this.config.REDIS_URL, prefix: this.config.QUEUE_PREFIX });
    return this.enqueuer.enqueue(eventRowId);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.enqueuer?.close();
  }
}
