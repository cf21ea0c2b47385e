import type { DojoEventPayload } from '@app/contracts';
import type { DojoEventsRepository, StoredDojoEvent, StoreItem } from '../repositories/dojo-events.repository';
import type { BatchCall } from '../shared/turn-batch';
import { TurnBatch } from '../shared/turn-batch';

/** What IngestDojoEvent needs of the event store: DojoEventsRepository, or BatchedDojoEventStore in front of it. */
export interface DojoEventStore {
  store(locationId: string, payload: DojoEventPayload, channel: StoreItem['channel'], occurred: Date): Promise<StoredDojoEvent | undefined>;
}

export interface BatchedDojoEventStoreOptions {
  /** Items per statement at most; a bigger turn is split into several statements [500]. */
  maxBatch?: number;
}

type Waiting = BatchCall<StoreItem, StoredDojoEvent | undefined>;

/**
 * Stores the events of one event-loop turn together (the webhook app's hot path): the
 * store() calls made in one turn go to Postgres as one multi-row INSERT (storeMany), so
 * a burst of deliveries costs one statement and one commit (one WAL flush on a durable
 * server) instead of one each. Each caller's promise settles only after that statement
 * committed, so "answered 2xx" still means "durable". When the batch statement fails,
 * each item is tried again on its own, so one bad item only fails its own delivery; so is
 * an item the batch could not decide without waiting (storeMany's null), so the rest of
 * the batch is answered at once.
 */
export class BatchedDojoEventStore implements DojoEventStore {
  private readonly turn: TurnBatch<StoreItem, StoredDojoEvent | undefined>;

  constructor(
    private readonly repository: DojoEventsRepository,
    opts: BatchedDojoEventStoreOptions = {},
  ) {
    this.turn = new TurnBatch((batch) => this.write(batch), opts.maxBatch ?? 500);
  }

  store(locationId: string, payload: DojoEventPayload, channel: StoreItem['channel'], occurred: Date): Promise<StoredDojoEvent | undefined> {
    return this.turn.add({ locationId, payload, channel, occurred });
  }

  private async write(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [w] = batch as [Waiting];
      await this.repository.store(w.item.locationId, w.item.payload, w.item.channel, w.item.occurred).then(w.resolve, w.reject);
      return;
    }
    let rows: (StoredDojoEvent | null)[];
    try {
      rows = await this.repository.storeMany(batch.map((w) => w.item));
    } catch {
      // Not swallowed: each item is stored again on its own, and its own error (if any) reaches its caller.
      for (const w of batch) this.alone(w);
      return;
    }
    batch.forEach((w, i) => {
      const row = rows[i];
      if (row === null || row === undefined) this.alone(w);
      else w.resolve(row);
    });
  }

  private alone(w: Waiting): void {
    this.repository.store(w.item.locationId, w.item.payload, w.item.channel, w.item.occurred).then(w.resolve, w.reject);
  }
}
