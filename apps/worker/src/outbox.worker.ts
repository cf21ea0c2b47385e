import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, LOGGER, Logger, PRISMA, SECRET_BOX } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import { DispatchOutbox, OutboxLoop } from '@app/domain/outbox';

/**
 * Sends queued POS events (outbox_events) to Dojo's POST /epos/events: polls
 * the outbox table, which is the durable queue, so nothing is lost across
 * restarts or while Dojo is unreachable.
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: OutboxLoop;

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(SECRET_BOX) secretBox: SecretBox,
    @Inject(LOGGER) logger: Logger,
  ) {
    const log = logger.child({ component: 'outbox' });
    // Retries live in the outbox rows (backoff per row); the client itself retries briefly on 429/5xx.
    const dojo = new DojoClient({ baseUrl: config.DOJO_API_URL, apiVersion: config.DOJO_API_VERSION, maxAttempts: 2, timeoutMs: 10_000 });
    const dispatch = new DispatchOutbox(
      { prisma, secretBox, dojo, log },
      { backoffBaseMs: config.OUTBOX_BACKOFF_BASE_MS, backoffMaxMs: config.OUTBOX_BACKOFF_MAX_MS },
    );
    this.loop = new OutboxLoop(dispatch, config.OUTBOX_POLL_MS, (err) => log.error({ err: (err as Error).message }, 'outbox pass failed'));
  }

  onApplicationBootstrap() {
    this.loop.start();
  }

  async onApplicationShutdown() {
    await this.loop.stop();
  }
}
