import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  at: number;
}

/** An answer: its status, JSON body and any further headers (e.g. retry-after). */
export interface StandInAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Responder = (req: RecordedRequest) => StandInAnswer | undefined | Promise<StandInAnswer | undefined>;

/**
 * A local stand-in for Dojo's REST API: records every request, answers 200
 * with a plausible body unless a responder says otherwise.
 */
export class DojoStandIn {
  readonly requests: RecordedRequest[] = [];
  private responders: Responder[] = [];
  /** The webhook subscriptions made with POST /webhooks. */
  readonly subscriptions: ReturnType<DojoStandIn['subscribe']>[] = [];
  /** Whose each subscription is (the authorization it was made with): GET /webhooks lists the caller's own. */
  private readonly subscriber = new Map<string, string | undefined>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res)); // handle() answers every request itself
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /**
   * What POST /webhooks makes, as Dojo does: a new subscription (listed by GET /webhooks) with a new secret per call.
   * A responder may call it and answer something else, as when Dojo made it but the answer was lost.
   */
  subscribe(r: RecordedRequest): { id: string; events: string[]; url: string; createdAt: string; secrets: { id: string; value: string; isActive: boolean }[] } {
    const n = this.subscriptions.length + 1;
    const secret = Buffer.from(`stand-in-secret-value-${String(n).padStart(2, '0')}`).toString('base64');
    const sub = { id: `ws_standin${n}`, events: r.body?.events, url: r.body?.url, createdAt: new Date().toISOString(), secrets: [{ id: `sc_${n}`, value: secret, isActive: true }] };
    this.subscriptions.push(sub);
    this.subscriber.set(sub.id, r.headers.authorization);
    return sub;
  }

  /** Adds a responder consulted before the default answer (first one that returns wins). */
  respond(r: Responder): () => void {
    this.responders.push(r);
    return () => (this.responders = this.responders.filter((x) => x !== r));
  }

  find(pred: (r: RecordedRequest) => boolean): RecordedRequest[] {
    return this.requests.filter(pred);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      /* keep raw */
    }
    const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() };
    this.requests.push(rec);
    let answer: StandInAnswer | undefined;
    for (const r of this.responders) {
      answer = await r(rec);
      if (answer) break;
    }
    answer ??= this.defaultAnswer(rec);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private defaultAnswer(r: RecordedRequest): { status: number; body?: unknown } {
    if (r.method === 'PUT' && r.path === '/epos/integrations/ws') {
      const now = new Date().toISOString();
      return { status: 200, body: [{ capabilities: (r.body?.capabilities ?? []).map((c: any) => ({ ...c, updatedAt: now })), createdAt: now }] };
    }
    if (r.method === 'POST' && r.path === '/epos/events') return { status: 200, body: r.body };
    if (r.method === 'POST' && r.path === '/webhooks') return { status: 200, body: this.subscribe(r) };
    if (r.method === 'GET' && r.path === '/webhooks') return { status: 200, body: this.subscriptions.filter((s) => this.subscriber.get(s.id) === r.headers.authorization) };
    return { status: 404, body: { title: 'not found' } };
  }
}
