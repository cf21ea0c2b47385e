import type { Logger } from '@app/common';
import type { DojoEventFacts, DojoEventPayload } from '@app/contracts';
import { EposError } from '@app/contracts';
import { dojoEventFactsOf } from '../repositories/dojo-events.repository';
import type { DojoEventStore } from './batched-event-store';

/**
 * Port: hands a stored event row to the events pipeline to be applied (ApplyDojoEvent).
 * Must be idempotent per row. The BullMQ adapter is BullmqEventEnqueuer in libs/queue.
 * `facts`, when given, are what the row holds of its event (dojoEventFactsOf): they travel
 * with the job and spare the apply a read.
 */
export interface EventEnqueuer {
  enqueue(eventRowId: string, facts?: DojoEventFacts): Promise<void>;
}

export interface IngestDojoEventCommand {
  payload: DojoEventPayload;
  /** 'reconciler': read from Dojo (GET /payment-intents/{id}) by ReconcilePaymentIntents, not delivered. */
  channel: 'webhook' | 'socket' | 'reconciler';
  /** Our location id; the payload's accountId must be this location's Dojo account. */
  locationId: string;
  /** The trace id the deliverer was (or will be) told: the webhook's answer, the RPC's. Written on every line. */
  traceId?: string;
}

export interface IngestDojoEventResult {
  eventRowId: string;
  duplicate: boolean;
}

/**
 * Accepts a Dojo event durably, whichever channel delivered it (webhook or
 * HandleEventV1): one row per (account, event id) in dojo_events; a repeat only
 * counts a delivery. Then it asks the pipeline to apply the row, without waiting:
 * enqueueing is best effort, and when Redis is down (or the process stops before
 * the enqueue) the row stays 'received' and the worker's sweeper picks it up
 * later, so a stored event is never lost.
 * Throws when the event could not be stored (the caller answers 5xx / an error).
 */
export class IngestDojoEvent {
  constructor(
    private readonly events: DojoEventStore,
    private readonly enqueuer: EventEnqueuer,
    private readonly logger: Logger,
  ) {}

  async execute(cmd: IngestDojoEventCommand): Promise<IngestDojoEventResult> {
    const { payload, channel, locationId, traceId } = cmd;
    const occurred = new Date(payload.createdAt);
    if (Number.isNaN(occurred.getTime())) throw EposError.invalid('createdAt is not an ISO 8601 date-time');
    const row = await this.events.store(locationId, payload, channel, occurred);
    if (!row) throw EposError.invalid(`accountId ${JSON.stringify(payload.accountId)} does not belong to this location`);
    const duplicate = !row.inserted;
    // The child logger is made only when a line is written (at LOG_LEVEL=warn an accepted event writes none).
    let child: Logger | undefined;
    const log = () => (child ??= this.logger.child({ locationId, eventId: payload.id, eventRowId: row.id, channel, ...(traceId !== undefined ? { traceId } : {}) }));
    if (this.logger.isLevelEnabled('info')) {
      log().info({ eventType: payload.event, duplicate, state: row.state }, duplicate ? 'dojo event delivered again' : 'dojo event stored');
    }
    // A repeat of an event that is still waiting (e.g. Redis was down) is enqueued again; the job id makes it harmless.
    // The answer does not wait for the queue: the row is durable once stored, and an enqueue that fails (or never
    // happens: the process dies first) leaves it 'received' for the sweeper, which is what a failed enqueue did
    // when it was awaited. So the acknowledgement costs Postgres' commit alone, not also a Redis round trip.
    if (!duplicate || row.state === 'received') {
      // A row this call inserted holds this payload's facts; a repeat's row holds its first delivery's.
      this.enqueuer.enqueue(row.id, row.inserted ? dojoEventFactsOf(locationId, payload) : undefined).catch((err: unknown) => {
        log().warn({ err: (err as Error).message }, 'could not enqueue the dojo event; the sweeper will pick it up');
      });
    }
    return { eventRowId: row.id, duplicate };
  }
}
