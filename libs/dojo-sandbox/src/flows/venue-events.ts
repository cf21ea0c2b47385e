/**
 * A reader of the venue API's Server-Sent Events stream (GET .../terminal-events),
 * as a POS would hold it open, for the pay-at-counter flow.
 *
 * Hand-written rather than the `eventsource` package: the flow needs only the
 * `id`/`event`/`data` fields of one stream it opens with a bearer token, and
 * the sandbox would otherwise gain a runtime dependency for about 40 lines.
 */
export interface SseEvent {
  id?: string;
  event: string;
  data: unknown;
}

export class VenueEventStream {
  private readonly abort = new AbortController();
  private readonly queue: SseEvent[] = [];
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;
  /** Every event received, in order. */
  readonly seen: SseEvent[] = [];

  private constructor() {}

  /** Opens the stream; resolves once the server answered 200 with text/event-stream. */
  static async open(url: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<VenueEventStream> {
    const s = new VenueEventStream();
    const timer = setTimeout(() => s.abort.abort(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal: s.abort.signal });
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      s.abort.abort();
      throw new Error(`GET ${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 300)}`);
    }
    if (!String(res.headers.get('content-type')).startsWith('text/event-stream')) {
      s.abort.abort();
      throw new Error(`GET ${new URL(url).pathname} answered ${res.headers.get('content-type')}, not text/event-stream`);
    }
    void s.pump(res.body);
    return s;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: RegExpExecArray | null;
        while ((cut = /\r?\n\r?\n/.exec(buffer))) {
          this.onBlock(buffer.slice(0, cut.index));
          buffer = buffer.slice(cut.index + cut[0].length);
        }
      }
      this.ended = new Error('the event stream ended');
    } catch (err) {
      this.ended = err instanceof Error ? err : new Error(String(err));
    }
    this.waiter?.();
  }

  private onBlock(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    const text = data.join('\n');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: kept as text, and the flow step that reads it says what it expected.
    }
    const e: SseEvent = { ...(id !== undefined ? { id } : {}), event, data: parsed };
    this.queue.push(e);
    this.seen.push(e);
    this.waiter?.();
  }

  /** The next event (in order), or an error when none comes within `ms` or the stream ended. */
  async next(ms: number): Promise<SseEvent> {
    const until = Date.now() + ms;
    for (;;) {
      const e = this.queue.shift();
      if (e) return e;
      if (this.ended) throw this.ended;
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no event from the venue's stream within ${Math.round(ms / 1000)} s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}
