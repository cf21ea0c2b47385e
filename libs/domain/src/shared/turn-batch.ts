/** One call waiting in a TurnBatch: what it asked for, and how to answer it. */
export interface BatchCall<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Collects the calls made in one turn of the event loop and hands them to `flush` together, in chunks of at most
 * `maxBatch` (a bigger turn is several chunks, handed over at once). `flush` must answer every call of its chunk
 * (resolve or reject): a call it leaves unanswered never settles. The hot paths that save round trips this way:
 * the webhook's inserts (BatchedDojoEventStore) and the events worker's applies (ApplyDojoEvent).
 */
export class TurnBatch<I, O> {
  private waiting: BatchCall<I, O>[] = [];

  constructor(
    private readonly flush: (chunk: BatchCall<I, O>[]) => Promise<void>,
    private readonly maxBatch: number,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => this.flushAll());
      this.waiting.push({ item, resolve, reject });
    });
  }

  private flushAll(): void {
    const all = this.waiting;
    this.waiting = [];
    for (let i = 0; i < all.length; i += this.maxBatch) {
      const chunk = all.slice(i, i + this.maxBatch);
      // flush answers its calls; should it throw all the same, no call of the chunk is left hanging.
      this.flush(chunk).catch((err: unknown) => chunk.forEach((c) => c.reject(err)));
    }
  }
}
