import type { JsonRpcResponse } from '@app/contracts';

/** What is kept of an answered request: the encoded reply as sent (undefined when none was sent), and its error type. */
export interface RememberedReply {
  text: string | undefined;
  errorType: string | undefined;
}

/**
 * Per-location memory of requests in flight and recently answered, keyed by
 * JSON-RPC id: a retry of an id in flight joins the pending call; a retry of
 * a recently answered id gets the same answer without running again.
 *
 * An answered request is kept as the reply text it was sent as, not as the
 * response object. At 1,000 requests/s the default 60 s holds 60,000 replies
 * (about 150 MB: 2-2.5 KB each, docs/operations.md sizes the gateways with
 * it). As objects (about 40 per order answer) the garbage collector copied
 * each one twice on its way to the old generation and traced them all on
 * every full collection; one flat string per reply has nothing inside to trace.
 */
export class ReplyCache {
  private readonly inflight = new Map<string, Promise<JsonRpcResponse>>();
  private readonly recent = new Map<string, { at: number; reply: RememberedReply }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 5_000,
  ) {}

  pending(key: string): Promise<JsonRpcResponse> | undefined {
    return this.inflight.get(key);
  }

  cached(key: string, now = Date.now()): RememberedReply | undefined {
    const hit = this.recent.get(key);
    if (!hit) return undefined;
    if (now - hit.at > this.ttlMs) {
      this.recent.delete(key);
      return undefined;
    }
    return hit.reply;
  }

  track(key: string, p: Promise<JsonRpcResponse>): void {
    this.inflight.set(key, p);
  }

  /** The call for `key` is over; `reply` (when given) is remembered for retries of the same id. */
  settle(key: string, reply: RememberedReply | undefined, now = Date.now()): void {
    this.inflight.delete(key);
    if (!reply || this.ttlMs <= 0) return;
    this.recent.delete(key);
    this.recent.set(key, { at: now, reply });
    // Maps keep insertion order: the oldest entries go first.
    for (const [k, v] of this.recent) {
      if (this.recent.size <= this.maxEntries && now - v.at <= this.ttlMs) break;
      this.recent.delete(k);
    }
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Replies remembered now (expired ones included until a settle or a lookup drops them). */
  get size(): number {
    return this.recent.size;
  }
}
