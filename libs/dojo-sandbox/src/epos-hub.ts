import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '@app/common';
import type { JsonRpcResponse } from '@app/contracts';
import { isEposMethod, isTablesError, isTablesMethod, METHOD_INFO, methodEnabled } from '@app/contracts';
import type { AccountRegistry } from './accounts';
import { LatencyRecorder } from './latency';
import type { Misbehaviour, SandboxAccount } from './types';

/** A method was not sent because its capability is not registered (Dojo does not route it). */
export class NotRoutedError extends Error {
  constructor(
    readonly method: string,
    readonly accountId: string,
    readonly capabilities: string[],
  ) {
    super(
      capabilities.length
        ? `${method} not sent: capability ${capabilities.join(' or ')} is not registered for ${accountId}`
        : `${method} not sent: Dojo has no such method`,
    );
    this.name = 'NotRoutedError';
  }
}

export class NotConnectedError extends Error {
  constructor(
    readonly method: string,
    readonly accountId: string,
  ) {
    super(`${method} not sent: no EPOS connection for ${accountId}`);
    this.name = 'NotConnectedError';
  }
}

export class CallTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly accountId: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} timed out: no reply from ${accountId} within ${timeoutMs} ms`);
    this.name = 'CallTimeoutError';
  }
}

export class ConnectionClosedError extends Error {
  constructor(
    readonly method: string,
    readonly accountId: string,
  ) {
    super(`${method} failed: the connection of ${accountId} closed before the reply`);
    this.name = 'ConnectionClosedError';
  }
}

interface Pending {
  method: string;
  sentAt: number;
  timer: NodeJS.Timeout;
  resolve(r: JsonRpcResponse): void;
  reject(e: Error): void;
}

/** The protocols the sandbox serves: Dojo's EPOS Data API (/epos) and the legacy Tables API (/ws/v1/tables/epos). */
export type SandboxProtocol = 'epos-data' | 'dojo-tables';

/** The Tables API's endpoint path (wss://api.dojo.tech/ws/v1/tables/epos). */
export const TABLES_PATH = '/ws/v1/tables/epos';

/** One accepted EPOS socket. */
export interface EposConnection {
  id: string;
  accountId: string;
  protocol: SandboxProtocol;
  socket: WebSocket;
  openedAt: Date;
  remote: string;
  pending: Map<string, Pending>;
  pingsSent: number;
  pongsReceived: number;
  pingsReceived: number;
  awaitingPongSince: number | null;
}

export interface ConnectionInfo {
  id: string;
  accountId: string;
  protocol: SandboxProtocol;
  openedAt: string;
  routed: boolean;
  pingsSent: number;
  pongsReceived: number;
  pingsReceived: number;
  inFlight: number;
}

/** A frame from the EPOS that matched no pending request (a duplicate reply, garbage, an error with id null...). */
export interface StrayFrame {
  accountId: string;
  connectionId: string;
  at: string;
  text: string;
  reason: 'unmatched-reply' | 'not-json' | 'not-a-response';
}

export interface HubOptions {
  pingIntervalMs: number;
  /** A connection that has not answered a ping for this long is terminated (0 disables). */
  pongTimeoutMs: number;
  callTimeoutMs: number;
  maxPayloadBytes: number;
}

export interface CallOptions {
  timeoutMs?: number;
  /** Send the same request twice with one JSON-RPC id (also on when misbehaviour.duplicateRequests). */
  duplicate?: boolean;
  /** Skip the capability check (used to send unknown methods on purpose). */
  bypassRouting?: boolean;
  /**
   * The JSON-RPC id to send, instead of a fresh one: Dojo retrying an earlier
   * request with the same id (after a dropped socket or no answer).
   */
  id?: string;
}

const MAX_STRAY = 1000;

/**
 * The /epos WebSocket endpoint: handshake auth (401 otherwise), one routed
 * connection per location, pings, and JSON-RPC calls correlated by id.
 *
 * Routing rule: the NEWEST connection of an account receives routed requests
 * (a reconnecting EPOS whose old socket is half-open takes over at once); older
 * ones stay open but idle until they close. A second concurrent connection is
 * logged with a warning and counted (connectionsFor / peakConnectionsFor).
 */
export class EposHub {
  private readonly wss: WebSocketServer;
  private readonly byAccount = new Map<string, EposConnection[]>();
  private readonly peak = new Map<string, number>();
  private readonly idPrefix = randomBytes(3).toString('hex');
  private seq = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  readonly stray: StrayFrame[] = [];
  readonly latency = new LatencyRecorder();
  /** Handshakes refused, by reason (for tests and the control API). */
  readonly refused: { at: string; status: number; reason: string }[] = [];

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly logger: Logger,
    private readonly opts: HubOptions,
    private readonly misbehaviour: Misbehaviour,
  ) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false, maxPayload: opts.maxPayloadBytes });
    this.schedulePings(opts.pingIntervalMs);
  }

  /** Reschedules the ping loop (one timer for every connection). */
  schedulePings(intervalMs: number): void {
    this.opts.pingIntervalMs = intervalMs;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.pingAll(), intervalMs);
    this.pingTimer.unref();
  }

  get pingIntervalMs(): number {
    return this.opts.pingIntervalMs;
  }

  private pingAll(): void {
    if (this.misbehaviour.pingsPaused) return;
    const now = Date.now();
    for (const list of this.byAccount.values()) {
      for (const c of list) {
        if (this.opts.pongTimeoutMs > 0 && c.awaitingPongSince !== null && now - c.awaitingPongSince > this.opts.pongTimeoutMs) {
          this.logger.warn({ locationId: c.accountId, connectionId: c.id }, 'no pong from EPOS in time; terminating the connection');
          c.socket.terminate();
          continue;
        }
        const send = () => {
          if (c.socket.readyState !== WebSocket.OPEN) return;
          c.socket.ping();
          c.pingsSent++;
          if (c.awaitingPongSince === null) c.awaitingPongSince = Date.now();
        };
        if (this.misbehaviour.pingDelayMs > 0) setTimeout(send, this.misbehaviour.pingDelayMs).unref();
        else send();
      }
    }
  }

  /**
   * Handles an HTTP upgrade on /epos (EPOS Data: `Authorization: Basic <key>`) or /ws/v1/tables/epos (Tables API:
   * `Authorization: Basic base64("<accountId>:<key>")`); anything else is not ours (returns false).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '/').split('?')[0];
    const protocol: SandboxProtocol | undefined =
      path === '/epos' || path === '/epos/' ? 'epos-data' : path === TABLES_PATH || path === `${TABLES_PATH}/` ? 'dojo-tables' : undefined;
    if (!protocol) return false;
    const account =
      protocol === 'dojo-tables' ? this.accounts.fromTablesAuthorization(req.headers.authorization) : this.accounts.fromAuthorization(req.headers.authorization);
    const shid = req.headers['software-house-id'];
    let reason: string | undefined;
    if (!account) {
      reason = !req.headers.authorization
        ? 'missing Authorization header'
        : protocol === 'dojo-tables'
          ? 'Authorization must be Basic base64("<accountName>:<apiKey>") of a known account'
          : 'unknown API key';
    }
    else if (typeof shid !== 'string' || shid.length === 0) reason = 'missing software-house-id header';
    else if (account.softwareHouseId && shid !== account.softwareHouseId) reason = 'software-house-id does not match the key';
    if (reason || !account) {
      this.refuse(socket, 401, reason ?? 'unauthorized');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, account, req, protocol));
    return true;
  }

  private refuse(socket: Duplex, status: number, reason: string): void {
    this.refused.push({ at: new Date().toISOString(), status, reason });
    if (this.refused.length > MAX_STRAY) this.refused.shift();
    this.logger.info({ status, reason }, 'EPOS handshake refused');
    const body = JSON.stringify({ status, title: 'Unauthorized', detail: reason });
    socket.end(
      `HTTP/1.1 ${status} Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  private accept(ws: WebSocket, account: SandboxAccount, req: IncomingMessage, protocol: SandboxProtocol): void {
    const conn: EposConnection = {
      id: `conn_${this.idPrefix}_${++this.seq}`,
      accountId: account.accountId,
      protocol,
      socket: ws,
      openedAt: new Date(),
      remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      pending: new Map(),
      pingsSent: 0,
      pongsReceived: 0,
      pingsReceived: 0,
      awaitingPongSince: null,
    };
    const list = this.byAccount.get(account.accountId) ?? [];
    list.push(conn);
    this.byAccount.set(account.accountId, list);
    this.peak.set(account.accountId, Math.max(this.peak.get(account.accountId) ?? 0, list.length));
    const log = this.logger.child({ locationId: account.accountId, connectionId: conn.id });
    if (list.length > 1) {
      log.warn({ concurrent: list.length }, 'another connection for the same location; the newest one now receives routed requests');
    } else {
      log.info({ protocol }, 'EPOS connected');
    }
    ws.on('message', (data) => this.onMessage(conn, (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8')));
    ws.on('ping', (data) => {
      conn.pingsReceived++;
      if (this.misbehaviour.answerPongs && ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on('pong', () => {
      conn.pongsReceived++;
      conn.awaitingPongSince = null;
    });
    ws.on('error', (err) => log.warn({ err: err.message }, 'EPOS socket error'));
    ws.on('close', (code) => {
      const l = this.byAccount.get(conn.accountId);
      if (l) {
        const i = l.indexOf(conn);
        if (i >= 0) l.splice(i, 1);
        if (l.length === 0) this.byAccount.delete(conn.accountId);
      }
      for (const [, p] of conn.pending) {
        clearTimeout(p.timer);
        p.reject(new ConnectionClosedError(p.method, conn.accountId));
      }
      conn.pending.clear();
      log.info({ code }, 'EPOS disconnected');
    });
  }

  private onMessage(conn: EposConnection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.addStray(conn, text, 'not-json');
      return;
    }
    const m = msg as { id?: unknown; result?: unknown; error?: unknown; method?: unknown };
    if (!m || typeof m !== 'object' || (m.result === undefined && m.error === undefined)) {
      this.addStray(conn, text, 'not-a-response');
      return;
    }
    const id = typeof m.id === 'string' || typeof m.id === 'number' ? String(m.id) : undefined;
    const p = id !== undefined ? conn.pending.get(id) : undefined;
    if (!p || id === undefined) {
      this.addStray(conn, text, 'unmatched-reply');
      return;
    }
    conn.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(msg as JsonRpcResponse);
  }

  private addStray(conn: EposConnection, text: string, reason: StrayFrame['reason']): void {
    this.stray.push({ accountId: conn.accountId, connectionId: conn.id, at: new Date().toISOString(), text: text.slice(0, 4096), reason });
    if (this.stray.length > MAX_STRAY) this.stray.shift();
  }

  /** The connection that receives routed requests for an account (the newest). */
  routed(accountId: string): EposConnection | undefined {
    const l = this.byAccount.get(accountId);
    return l && l.length ? l[l.length - 1] : undefined;
  }

  connectionsFor(accountId: string): number {
    return this.byAccount.get(accountId)?.length ?? 0;
  }

  peakConnectionsFor(accountId: string): number {
    return this.peak.get(accountId) ?? 0;
  }

  connectionInfo(accountId?: string): ConnectionInfo[] {
    const out: ConnectionInfo[] = [];
    for (const [acc, list] of this.byAccount) {
      if (accountId && acc !== accountId) continue;
      list.forEach((c, i) =>
        out.push({
          id: c.id,
          accountId: acc,
          protocol: c.protocol,
          openedAt: c.openedAt.toISOString(),
          routed: i === list.length - 1,
          pingsSent: c.pingsSent,
          pongsReceived: c.pongsReceived,
          pingsReceived: c.pingsReceived,
          inFlight: c.pending.size,
        }),
      );
    }
    return out;
  }

  /** Counts of open connections per account. */
  connectionCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [acc, list] of this.byAccount) out[acc] = list.length;
    return out;
  }

  totalConnections(): number {
    let n = 0;
    for (const l of this.byAccount.values()) n += l.length;
    return n;
  }

  /** The capabilities that make Dojo route `method` (for HandleEventV1, the one of the event type when known). */
  capabilitiesFor(method: string, params: unknown): string[] {
    if (!isEposMethod(method)) return [];
    if (method === 'HandleEventV1') {
      const ev = (params as { event?: unknown } | undefined)?.event;
      if (typeof ev === 'string') return [`HandleEvent:${ev}`];
    }
    return METHOD_INFO[method].capabilities;
  }

  /** The protocol of the connection that receives an account's requests, if any. */
  protocolOf(accountId: string): SandboxProtocol | undefined {
    return this.routed(accountId)?.protocol;
  }

  /**
   * Whether Dojo would route `method` to this account now: an EPOS Data method once its capability is
   * registered and the account is on /epos; a Tables API method (no registration exists) when it is on the
   * Tables endpoint.
   */
  isRouted(accountId: string, method: string, params?: unknown): boolean {
    const protocol = this.protocolOf(accountId);
    if (isTablesMethod(method)) return protocol === 'dojo-tables';
    if (!isEposMethod(method) || protocol === 'dojo-tables') return false;
    const caps = this.accounts.capabilityNames(accountId);
    const needed = this.capabilitiesFor(method, params);
    return method === 'HandleEventV1' ? needed.some((c) => caps.includes(c)) : methodEnabled(method, caps);
  }

  /** Whether a call of `method` would go out now: routed (isRouted), on a connection that is open. */
  ready(accountId: string, method: string, params?: unknown): boolean {
    return this.isRouted(accountId, method, params) && this.routed(accountId)?.socket.readyState === WebSocket.OPEN;
  }

  /** Sends one JSON-RPC request to the routed connection and resolves with the reply. */
  call(accountId: string, method: string, params: unknown, opts: CallOptions = {}): Promise<JsonRpcResponse> {
    if (!opts.bypassRouting && !this.isRouted(accountId, method, params)) {
      this.latency.recordError(method);
      return Promise.reject(new NotRoutedError(method, accountId, this.capabilitiesFor(method, params)));
    }
    const conn = this.routed(accountId);
    if (!conn || conn.socket.readyState !== WebSocket.OPEN) {
      this.latency.recordError(method);
      return Promise.reject(new NotConnectedError(method, accountId));
    }
    const id = opts.id ?? `sbx_${this.idPrefix}_${++this.seq}`;
    if (conn.pending.has(id)) {
      this.latency.recordError(method);
      return Promise.reject(new Error(`${method} not sent: request ${id} is already awaiting a reply on this connection`));
    }
    const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const timeoutMs = opts.timeoutMs ?? this.opts.callTimeoutMs;
    return new Promise<JsonRpcResponse>((resolve, reject) => {
      const sentAt = performance.now();
      const timer = setTimeout(() => {
        conn.pending.delete(id);
        this.latency.recordError(method);
        reject(new CallTimeoutError(method, accountId, timeoutMs));
      }, timeoutMs);
      conn.pending.set(id, {
        method,
        sentAt,
        timer,
        resolve: (r) => {
          const failed = ('error' in r && r.error !== undefined) || ('result' in r && isTablesError(r.result));
          this.latency.record(method, performance.now() - sentAt, !failed);
          resolve(r);
        },
        reject,
      });
      conn.socket.send(frame);
      if (opts.duplicate || this.misbehaviour.duplicateRequests) conn.socket.send(frame);
    });
  }

  /** Sends a raw text frame (malformed JSON, unknown messages) to the routed connection of an account. */
  sendRaw(accountId: string, text: string): void {
    const conn = this.routed(accountId);
    if (!conn) throw new NotConnectedError('(raw frame)', accountId);
    conn.socket.send(text);
  }

  /**
   * Drops connections: one account's (all its sockets) or every connection.
   * `terminate` kills the TCP socket without a close frame (a network loss);
   * otherwise a close frame with `code` is sent.
   */
  drop(opts: { accountId?: string; terminate?: boolean; code?: number; reason?: string } = {}): number {
    let n = 0;
    for (const [acc, list] of [...this.byAccount]) {
      if (opts.accountId && acc !== opts.accountId) continue;
      for (const c of [...list]) {
        n++;
        if (opts.terminate) c.socket.terminate();
        else c.socket.close(opts.code ?? 1012, opts.reason ?? 'sandbox drop');
      }
    }
    this.logger.info({ locationId: opts.accountId ?? '(all)', dropped: n, terminate: !!opts.terminate }, 'sandbox dropped connections');
    return n;
  }

  async close(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const list of this.byAccount.values()) for (const c of list) c.socket.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
