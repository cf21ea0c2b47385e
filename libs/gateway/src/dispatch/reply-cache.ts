import type { JsonRpcResponse } from '@app/contracts';

/**
 * Per-location memory of requests in flight and recently answered, keyed by
 * JSON-RPC id: a retry of an id in flight joins the pending call; a retry of
 * a recently answered id gets the same answer without running again.
 */
export class ReplyCache {
  private readonly inflight = new Map<string, Promise<JsonRpcResponse>>();
  private readonly recent = new Map<string, { at: number; response: JsonRpcResponse }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 5_000,
  ) {}

  pending(key: string): Promise<JsonRpcResponse> | undefined {
    return this.inflight.get(key);
  }

  cached(key: string, now = Date.now()): JsonRpcResponse | undefined {
    const hit = this.recent.get(key);
    if (!hit) return undefined;
    if (now - hit.at > this.ttlMs) {
      this.recent.delete(key);
      return undefined;
    }
    return hit.response;
  }

  track(key: string, p: Promise<JsonRpcResponse>): void {
    this.inflight.set(key, p);
  }

  settle(key: string, response: JsonRpcResponse | undefined, remember: boolean, now = Date.now()): void {
    this.inflight.delete(key);
    if (!remember || !response || this.ttlMs <= 0) return;
    this.recent.delete(key);
    this.recent.set(key, { at: now, response });
    // Maps keep insertion order: the oldest entries go first.
    for (const [k, v] of this.recent) {
      if (this.recent.size <= this.maxEntries && now - v.at <= this.ttlMs) break;
      this.recent.delete(k);
    }
  }

  get inflightCount(): number {
    return this.inflight.size;
  }
}
