import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { boundCounter, CONFIG, HEALTH, HealthIndicator, HealthRegistry, LOGGER, Logger, pipelineMetrics, PRISMA, SECRET_BOX } from '@app/common';
import type { WorkerConfig } from '@app/config';
import type { PrismaClient, SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import { DispatchOutbox, OutboxLoop, OutboxRepository, rawOnPg } from '@app/domain/outbox';
import { RpcWorkerService } from './rpc-worker.service';

/** Timeout of one POST /epos/events (ids only: Dojo answers it at once when it answers). */
const POS_EVENT_TIMEOUT_MS = 5_000;

/** Failing passes are reported by /health once they have failed without a success in between for this long. */
const FAILING_FOR_MS = 5_000;

/**
 * Health of the outbox loop (not a BullMQ worker: it polls Postgres): unhealthy
 * while every pass has failed for FAILING_FOR_MS, named with the last error.
 */
class OutboxLoopHealth implements HealthIndicator {
  readonly name = 'worker:outbox';
  private failingSince?: number;
  private lastError?: string;

  succeeded(): void {
    this.failingSince = undefined;
  }

  failed(err: unknown): void {
    this.failingSince ??= Date.now();
    this.lastError = (err as Error)?.message ?? String(err);
  }

  check(): { ok: boolean; error?: string } {
    if (this.failingSince === undefined || Date.now() - this.failingSince < FAILING_FOR_MS) return { ok: true };
    return { ok: false, error: `every outbox pass has failed for ${Math.round((Date.now() - this.failingSince) / 1000)} s (last error: ${this.lastError})` };
  }
}

/**
 * Sends queued POS events (outbox_events) to Dojo's POST /epos/events: polls
 * the outbox table, which is the durable queue, so nothing is lost across
 * restarts or while Dojo is unreachable.
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: OutboxLoop;
  private readonly health = new OutboxLoopHealth();

  constructor(
    @Inject(CONFIG) config: WorkerConfig,
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(SECRET_BOX) secretBox: SecretBox,
    @Inject(LOGGER) logger: Logger,
    @Inject(HEALTH) private readonly registry: HealthRegistry,
    rpc: RpcWorkerService,
  ) {
    const log = logger.child({ component: 'outbox' });
    // Retries live in the outbox rows (backoff per row, Retry-After in next_attempt_at): one attempt per call, never a
    // sleep inside it. The timeout bounds a send the pass no longer waits for (DispatchOutbox passWaitMs): well under
    // the claim's 60 s lease, and short enough for a shutdown (which waits for those sends) within SHUTDOWN_TIMEOUT_MS.
    const dojo = new DojoClient({ baseUrl: config.DOJO_API_URL, apiVersion: config.DOJO_API_VERSION, maxAttempts: 1, timeoutMs: POS_EVENT_TIMEOUT_MS });
    const dispatch = new DispatchOutbox(
      // Its statements go straight to pg as named prepared statements (planned once per connection, not per pass).
      { outbox: new OutboxRepository(rawOnPg(prisma)), secretBox, dojo, log },
      {
        backoffBaseMs: config.OUTBOX_BACKOFF_BASE_MS,
        backoffMaxMs: config.OUTBOX_BACKOFF_MAX_MS,
        maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
        perLocation: config.OUTBOX_SENDS_PER_LOCATION,
        // The worker that takes requests first sends the POS events too; the others only those it left due for
        // OUTBOX_HELP_AFTER_MS (a second worker's own sends cost the box more than they save: docs/performance.md).
        helping: () => !rpc.host.takesRequestsFirst,
        helpAfterMs: config.OUTBOX_HELP_AFTER_MS,
      },
    );
    const m = pipelineMetrics();
    const retried = boundCounter(m.outboxFailedTotal, 'retried');
    const refused = boundCounter(m.outboxFailedTotal, 'refused');
    const reported = {
      drain: () => dispatch.drain(),
      execute: async () => {
        const r = await dispatch.execute();
        if (r.sent) m.outboxSent.inc(r.sent);
        if (r.retried) retried.inc(r.retried);
        if (r.failed) refused.inc(r.failed);
        this.health.succeeded();
        return r;
      },
    };
    this.loop = new OutboxLoop(reported, config.OUTBOX_POLL_MS, (err) => {
      this.health.failed(err);
      log.error({ err: (err as Error).message }, 'outbox pass failed');
    });
    registry.register(this.health);
  }

  onApplicationBootstrap() {
    this.loop.start();
  }

  async onApplicationShutdown() {
    this.registry.unregister(this.health);
    await this.loop.stop();
  }
}
