import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '@app/common';
import { ConnectPat } from '@app/contracts';
import type { AccountRegistry } from './accounts';
import { CallTimeoutError, ConnectionClosedError, NotConnectedError } from './epos-hub';
import { LatencyRecorder } from './latency';
import type { Misbehaviour, SandboxAccount } from './types';
import { parseConnectQuery, pingConnections } from './connect-socket';

const Q = ConnectPat.CONNECT_PAT_QUERY;

/** The reply to a PAT request: its result, or its errorMessage. */
export type PatCallReply = { id: string | number; result: unknown } | { id: string | number | null; error: ConnectPat.PatError };

/** A handshake the /pat endpoint saw (the raw query is kept in memory for tests, never logged). */
export interface PatHandshake {
  at: string;
  accountId: string | null;
  /** Path and query exactly as dialled (token included): for tests of the exact URI. */
  rawUrl: string;
  status: 101 | 400 | 401;
  reason?: string;
}

interface Pending {
  method: string;
  timer: NodeJS.Timeout;
  resolve(r: PatCallReply): void;
  reject(e: Error): void;
}

/** One accepted Connect PAT socket. */
export interface PatConnection {
  id: string;
  accountId: string;
  socket: WebSocket;
  finalReceipt: boolean;
  installerId: string;
  pending: Map<string, Pending>;
  /** errorMessage notifications and unmatched frames from the EPOS. */
  notices: unknown[];
  pingsSent: number;
  pongsReceived: number;
  awaitingPongSince: number | null;
}

export interface PatHubOptions {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  callTimeoutMs: number;
  maxPayloadBytes: number;
}

/** Connect's answer to a site's older PAT socket when a newer one connects (its wording per Connect's docs). */
export const CONNECTION_DISCONTINUED = 'Connection Discontinued';

const MAX_KEPT = 1000;

/**
 * Paymentsense Connect's pay-at-table endpoint, `/pat?token=…&api-version=v1
 * &software-house-id=…&installer-id=…[&final-pos-receipt-request]`: the token is
 * the account's API key; a wrong token, software house, version or a missing
 * installer id is refused at the handshake. As Connect, only the last socket
 * of a site is served: an older one is sent an errorMessage "Connection
 * Discontinued" and closed. Pings every interval; terminal messages (the
 * codec's names) are sent as JSON-RPC requests and correlated by id.
 */
export class PatHub {
  private readonly wss: WebSocketServer;
  private readonly byAccount = new Map<string, PatConnection>();
  private readonly idPrefix = randomBytes(3).toString('hex');
  private seq = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  readonly handshakes: PatHandshake[] = [];
  /** Connections replaced by a newer one (Connect's last-connection-wins), per account. */
  readonly discontinued = new Map<string, number>();
  readonly latency = new LatencyRecorder();

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly logger: Logger,
    private readonly opts: PatHubOptions,
    private readonly misbehaviour: Misbehaviour,
  ) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false, maxPayload: opts.maxPayloadBytes });
    this.pingTimer = setInterval(() => this.pingAll(), opts.pingIntervalMs);
    this.pingTimer.unref();
  }

  private pingAll(): void {
    if (this.misbehaviour.pingsPaused) return;
    pingConnections(this.byAccount.values(), this.opts.pongTimeoutMs, this.logger, 'PAT');
  }

  /** Handles an HTTP upgrade on /pat (false: not ours). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const raw = req.url ?? '/';
    const { path, params } = parseConnectQuery(raw);
    if (path !== ConnectPat.CONNECT_PAT_PATH) return false;
    const token = params.get(Q.token);
    const account = token ? this.accounts.byApiKey(token) : undefined;
    let status: 400 | 401 | undefined;
    let reason: string | undefined;
    if (!token) [status, reason] = [401, 'missing token'];
    else if (!account) [status, reason] = [401, 'unknown token'];
    else if (params.get(Q.apiVersion) !== ConnectPat.CONNECT_PAT_API_VERSION) [status, reason] = [400, `${Q.apiVersion} must be ${ConnectPat.CONNECT_PAT_API_VERSION}`];
    else if (!params.get(Q.softwareHouseId)) [status, reason] = [400, `missing ${Q.softwareHouseId}`];
    else if (params.get(Q.softwareHouseId) !== account.softwareHouseId) [status, reason] = [401, `${Q.softwareHouseId} does not match the token`];
    else if (!params.get(Q.installerId)) [status, reason] = [400, `missing ${Q.installerId}`];
    else if (params.has(Q.finalReceipt) && params.get(Q.finalReceipt) !== null) [status, reason] = [400, `${Q.finalReceipt} is a bare flag`];
    this.keep(this.handshakes, { at: new Date().toISOString(), accountId: account?.accountId ?? null, rawUrl: raw, status: status ?? 101, ...(reason ? { reason } : {}) });
    if (status || !account) {
      this.logger.info({ status, reason }, 'PAT handshake refused');
      const body = JSON.stringify({ status, detail: reason });
      socket.end(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Unauthorized'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, account, params.has(Q.finalReceipt), params.get(Q.installerId)!));
    return true;
  }

  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > MAX_KEPT) list.shift();
  }

  private accept(ws: WebSocket, account: SandboxAccount, finalReceipt: boolean, installerId: string): void {
    const conn: PatConnection = {
      id: `pat_${this.idPrefix}_${++this.seq}`,
      accountId: account.accountId,
      socket: ws,
      finalReceipt,
      installerId,
      pending: new Map(),
      notices: [],
      pingsSent: 0,
      pongsReceived: 0,
      awaitingPongSince: null,
    };
    const log = this.logger.child({ locationId: account.accountId, connectionId: conn.id });
    const previous = this.byAccount.get(account.accountId);
    this.byAccount.set(account.accountId, conn);
    if (previous) this.discontinue(previous, 'a newer PAT connection for the site');
    log.info({ finalReceipt }, 'EPOS connected over PAT');
    ws.on('message', (data) => this.onMessage(conn, (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8')));
    ws.on('ping', (data) => {
      if (this.misbehaviour.answerPongs && ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on('pong', () => {
      conn.pongsReceived++;
      conn.awaitingPongSince = null;
    });
    ws.on('error', (err) => log.warn({ err: err.message }, 'PAT socket error'));
    ws.on('close', (code) => {
      if (this.byAccount.get(conn.accountId) === conn) this.byAccount.delete(conn.accountId);
      for (const [, p] of conn.pending) {
        clearTimeout(p.timer);
        p.reject(new ConnectionClosedError(p.method, conn.accountId));
      }
      conn.pending.clear();
      log.info({ code }, 'EPOS PAT connection closed');
    });
  }

  /** Connect's cut-off of an older socket: an errorMessage notification, then a close. */
  private discontinue(c: PatConnection, why: string): void {
    this.discontinued.set(c.accountId, (this.discontinued.get(c.accountId) ?? 0) + 1);
    this.logger.info({ locationId: c.accountId, connectionId: c.id, why }, 'PAT connection discontinued');
    if (c.socket.readyState !== WebSocket.OPEN) return;
    c.socket.send(ConnectPat.encodePatError(null, { code: 4000, message: CONNECTION_DISCONTINUED }));
    c.socket.close(4000, CONNECTION_DISCONTINUED);
  }

  /** Misbehaviour: cut the account's socket off as if another EPOS had connected to the site. */
  discontinueCurrent(accountId: string): boolean {
    const c = this.byAccount.get(accountId);
    if (!c) return false;
    this.byAccount.delete(accountId);
    this.discontinue(c, 'sandbox switch');
    return true;
  }

  private onMessage(conn: PatConnection, text: string): void {
    let msg: { id?: unknown; result?: unknown; error?: unknown; method?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.keep(conn.notices, { unparseable: text.slice(0, 2048) });
      return;
    }
    const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? String(msg.id) : undefined;
    const p = id !== undefined ? conn.pending.get(id) : undefined;
    if (!p || id === undefined || (msg.result === undefined && msg.error === undefined)) {
      this.keep(conn.notices, msg);
      return;
    }
    conn.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(msg as PatCallReply);
  }

  /** The site's current (served) connection. */
  routed(accountId: string): PatConnection | undefined {
    return this.byAccount.get(accountId);
  }

  connectionCounts(): Record<string, number> {
    return Object.fromEntries([...this.byAccount.keys()].map((k) => [k, 1]));
  }

  /**
   * Sends one terminal message and resolves with the EPOS's reply. `notify`
   * sends it without an id (a notification) and resolves at once with null.
   */
  call(accountId: string, method: string, params: unknown, opts: { timeoutMs?: number; id?: string | number; notify?: boolean } = {}): Promise<PatCallReply | null> {
    const conn = this.routed(accountId);
    if (!conn || conn.socket.readyState !== WebSocket.OPEN) {
      this.latency.recordError(method);
      return Promise.reject(new NotConnectedError(method, accountId));
    }
    if (opts.notify) {
      conn.socket.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
      return Promise.resolve(null);
    }
    const id = opts.id ?? `pat_${this.idPrefix}_${++this.seq}`;
    const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const timeoutMs = opts.timeoutMs ?? this.opts.callTimeoutMs;
    return new Promise<PatCallReply>((resolve, reject) => {
      const sentAt = performance.now();
      const timer = setTimeout(() => {
        conn.pending.delete(String(id));
        this.latency.recordError(method);
        reject(new CallTimeoutError(method, accountId, timeoutMs));
      }, timeoutMs);
      conn.pending.set(String(id), {
        method,
        timer,
        resolve: (r) => {
          this.latency.record(method, performance.now() - sentAt, !('error' in r));
          resolve(r);
        },
        reject,
      });
      conn.socket.send(frame);
      if (this.misbehaviour.duplicateRequests) conn.socket.send(frame);
    });
  }

  /** Sends a raw text frame to the account's connection (malformed JSON, unknown messages). */
  sendRaw(accountId: string, text: string): void {
    const conn = this.routed(accountId);
    if (!conn) throw new NotConnectedError('(raw frame)', accountId);
    conn.socket.send(text);
  }

  drop(opts: { accountId?: string; terminate?: boolean } = {}): number {
    let n = 0;
    for (const c of [...this.byAccount.values()]) {
      if (opts.accountId && c.accountId !== opts.accountId) continue;
      n++;
      if (opts.terminate) c.socket.terminate();
      else c.socket.close(1012, 'sandbox drop');
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const c of this.byAccount.values()) c.socket.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
