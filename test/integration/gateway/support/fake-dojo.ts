import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface FakeConnection {
  ws: WebSocket;
  headers: IncomingHttpHeaders;
  path: string;
  httpVersion: string;
  /** The API key as sent after "Basic ". */
  apiKey: string;
  openedAt: number;
  closedAt?: number;
  closeCode?: number;
  received: unknown[];
  pings: number;
  /** When each frame the EPOS side sent arrived (messages, pings and pongs), in order. */
  frames: number[];
}

/**
 * A stand-in for Dojo's EPOS Data gateway: a real WebSocket server on
 * 127.0.0.1 that records handshakes, refuses chosen keys with 401/403, sends
 * requests and collects replies by id.
 */
export class FakeDojo {
  readonly connections: FakeConnection[] = [];
  readonly handshakes: { at: number; apiKey: string; status: number }[] = [];
  /** API keys refused at the handshake, with the HTTP status to answer. */
  readonly refuse = new Map<string, number>();
  /** When false, the server stops answering pings (a half-dead link). */
  autoPong = true;
  private readonly waiters: { pred: (c: FakeConnection, msg: unknown) => boolean; resolve: (m: unknown) => void }[] = [];
  private server!: WebSocketServer;
  url = '';

  async start(): Promise<this> {
    this.server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      autoPong: false,
      verifyClient: (info, cb) => {
        const auth = String(info.req.headers.authorization ?? '');
        const apiKey = auth.replace(/^Basic /, '');
        const status = this.refuse.get(apiKey);
        this.handshakes.push({ at: Date.now(), apiKey, status: status ?? 101 });
        if (status) cb(false, status, status === 401 ? 'Unauthorized' : 'Forbidden');
        else cb(true);
      },
    });
    await new Promise<void>((resolve) => this.server.once('listening', () => resolve()));
    this.url = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/epos`;
    this.server.on('connection', (ws, req) => {
      const conn: FakeConnection = {
        ws,
        headers: req.headers,
        path: req.url ?? '',
        httpVersion: req.httpVersion,
        apiKey: String(req.headers.authorization ?? '').replace(/^Basic /, ''),
        openedAt: Date.now(),
        received: [],
        pings: 0,
        frames: [],
      };
      this.connections.push(conn);
      ws.on('pong', () => conn.frames.push(Date.now()));
      ws.on('ping', (data) => {
        conn.frames.push(Date.now());
        conn.pings++;
        if (this.autoPong) ws.pong(data);
      });
      ws.on('message', (data) => {
        conn.frames.push(Date.now());
        const text = (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
        let msg: unknown;
        try {
          msg = JSON.parse(text);
        } catch {
          msg = text;
        }
        conn.received.push(msg);
        for (const w of [...this.waiters]) {
          if (w.pred(conn, msg)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(msg);
          }
        }
      });
      ws.on('close', (code) => {
        conn.closedAt = Date.now();
        conn.closeCode = code;
      });
    });
    return this;
  }

  /**
   * The sockets open now never answer a close frame from the EPOS (ws answers one by calling the socket's own
   * close(): made a no-op here), so the EPOS side's close waits for its own timeout and then drops the connection,
   * which the server still sees: a Dojo slow to finish the close handshake.
   */
  ignoreCloseFrames(): void {
    for (const c of this.open()) (c.ws as unknown as { close: () => void }).close = () => undefined;
  }

  /** Open connections for an API key. */
  open(apiKey?: string): FakeConnection[] {
    return this.connections.filter((c) => c.ws.readyState === WebSocket.OPEN && (apiKey === undefined || c.apiKey === apiKey));
  }

  /** Waits for a reply with this id on any connection of `conn`'s key. */
  waitForReply(conn: FakeConnection, id: unknown, timeoutMs = 5_000): Promise<Record<string, any>> {
    const hit = conn.received.find((m) => (m as { id?: unknown })?.id === id);
    if (hit) return Promise.resolve(hit as Record<string, any>);
    return new Promise((resolve, reject) => {
      const w = { pred: (c: FakeConnection, m: unknown) => c === conn && (m as { id?: unknown })?.id === id, resolve: resolve as (m: unknown) => void };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`no reply with id ${JSON.stringify(id)} within ${timeoutMs} ms`));
        }
      }, timeoutMs);
    });
  }

  /** Sends a request (object or raw text) and waits for the reply carrying `id`. */
  async request(conn: FakeConnection, msg: object | string, id: unknown, timeoutMs = 5_000): Promise<Record<string, any>> {
    const p = this.waitForReply(conn, id, timeoutMs);
    conn.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
    return p;
  }

  /** Sends raw text and waits for the next message on that connection. */
  async sendRaw(conn: FakeConnection, text: string | Buffer, timeoutMs = 5_000): Promise<Record<string, any>> {
    const p = new Promise<Record<string, any>>((resolve, reject) => {
      const w = { pred: (c: FakeConnection) => c === conn, resolve: resolve as (m: unknown) => void };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`no reply within ${timeoutMs} ms`));
        }
      }, timeoutMs);
    });
    conn.ws.send(text);
    return p;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
