import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '@app/common';
import { ConnectPac, ConnectPat } from '@app/contracts';
import { SandboxInputError } from './accounts';
import type { AccountRegistry } from './accounts';
import type { PacOutcome } from './pac-terminals';
import { PAC_DEFAULT_TIDS, pacOutcome, pacTransaction } from './pac-terminals';
import type { SandboxAccount } from './types';
import { parseConnectQuery, pingConnections } from './connect-socket';

const Q = ConnectPat.CONNECT_PAT_QUERY;
const E = ConnectPac.PAC_ERROR_CODES;
type PacId = ConnectPac.PacId;
type PacError = ConnectPac.PacError;

/** A handshake /pac saw (the raw query is kept in memory for tests, never logged). */
export interface PacHandshake {
  at: string;
  accountId: string | null;
  /** Path and query exactly as dialled (token included): for tests of the exact URI. */
  rawUrl: string;
  status: 101 | 400 | 401 | 403 | 503;
  reason?: string;
}

/** One accepted /pac socket (an account may have several, as Connect allows). */
export interface PacConnection {
  id: string;
  accountId: string;
  installerId: string;
  socket: WebSocket;
  /** Frames from the EPOS that were not requests we serve: refused requests, unmatched replies, bad signature answers. */
  notices: unknown[];
  pingsSent: number;
  pongsReceived: number;
  awaitingPongSince: number | null;
  /** Replies held back by the outOfOrder switch. */
  held: string[];
  heldTimer?: NodeJS.Timeout;
}

/** What the EPOS asked for, and how the sandbox answered (a log for tests, bounded). */
export interface PacRequestRecord {
  at: string;
  accountId: string;
  connectionId: string;
  id: PacId | null;
  method: string | null;
  params?: unknown;
  answer: 'result' | 'error' | 'later';
  error?: PacError;
}

/** One transaction a virtual terminal ran (sale or refund), from request to result. */
export interface PacTerminalRun {
  runId: string;
  accountId: string;
  tid: string;
  /** The JSON-RPC id of the sale/refund (epos-relay uses its transaction id). */
  requestId: PacId;
  connectionId: string;
  kind: 'sale' | 'refund';
  amount: number;
  amountCashback?: number;
  currency: string;
  outcome: PacOutcome;
  startedAt: string;
  finishedAt?: string;
  notifications: string[];
  signature?: { requestId: string; answer: boolean | 'timeout' };
  cancelRequested: boolean;
  /** The final transaction (also the terminal's last, for duplicate). */
  transaction?: ConnectPac.PacTransaction;
  /** Whether the reply reached an open socket (false: the socket was gone, or neverReply). */
  replied?: boolean;
}

export interface VirtualTerminal {
  tid: string;
  currency: string;
  location: string;
  /** BUSY while a transaction runs. */
  running?: RunningTx;
  last?: ConnectPac.PacTransaction;
  transactions: number;
}

interface RunningTx {
  run: PacTerminalRun;
  conn: PacConnection;
  /** Set once the card was authorised (a cancel then gets UNABLE_TO_CANCEL). */
  decided: boolean;
  wake?: () => void;
  signatureAnswer?: (accepted: boolean) => void;
}

/** The misbehaviour switches of /pac (the control API's POST /_sandbox/pac/misbehaviour). */
export interface PacSwitches {
  /** Sales and refunds run on the terminal but get no reply (duplicate still reads the outcome). */
  neverReply: boolean;
  /** Every transaction reply is sent twice. */
  replyTwice: boolean;
  /** Replies are held back and sent in reverse order (a batch of two, or after 300 ms). */
  outOfOrder: boolean;
  /** The transaction reply's result breaks the schema (the terminal's own record stays intact). */
  unreadableResult: boolean;
  /** Extra delay before each notification (ms). */
  slowNotificationsMs: number;
  /** Every transaction drops its socket after the PIN, as the `disconnect` outcome does. */
  dropMidTransaction: boolean;
  /** Refuse every handshake with this HTTP status (401, 403 or 503), or 0 to accept. */
  refuseHandshake: 0 | 401 | 403 | 503;
}

export interface PacSettings {
  /** A terminal that never finishes ends TIMED_OUT after this long (Connect: about 200 s). */
  terminalTimeoutMs: number;
  /** How long Connect waits for the EPOS's answer to signatureVerificationRequest before it decides itself (3P: 80 s). */
  signatureWindowMs: number;
  /** Pause between a terminal's notifications. */
  stepDelayMs: number;
}

export interface PacHubOptions {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxPayloadBytes: number;
  pac?: Partial<PacSettings>;
}

export const PAC_DEFAULT_SETTINGS: PacSettings = { terminalTimeoutMs: 200_000, signatureWindowMs: 80_000, stepDelayMs: 150 };
const wellBehaved = (): PacSwitches => ({
  neverReply: false,
  replyTwice: false,
  outOfOrder: false,
  unreadableResult: false,
  slowNotificationsMs: 0,
  dropMidTransaction: false,
  refuseHandshake: 0,
});

const MAX_KEPT = 2000;
const HOLD_MS = 300;

/** The sandbox sent a frame its own codec refuses: a sandbox bug, never sent. */
export class PacFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PacFrameError';
  }
}

/**
 * Paymentsense Connect's pay-at-counter endpoint, `/pac?token=…&api-version=v1
 * &software-house-id=…&installer-id=…`, with virtual terminals per account.
 * Several sockets per account are served (Connect allows it). Every frame
 * received is read with the codec's decodePacRequest; every frame sent is
 * checked with the codec's schemas (and decodePacFrame, as the gateway reads
 * it) before it goes, so the sandbox cannot drift from the codec.
 *
 * A sale or refund runs on its terminal (BUSY meanwhile): notifications
 * (terminalNotification) go to the socket that asked, then the final
 * transaction as the reply to the request's id. The outcome comes from the
 * terminal id, else the amount's last two digits (pac-terminals.ts).
 */
export class PacHub {
  private readonly wss: WebSocketServer;
  private readonly byAccount = new Map<string, Set<PacConnection>>();
  private readonly terminalsByAccount = new Map<string, Map<string, VirtualTerminal>>();
  private readonly idPrefix = randomBytes(3).toString('hex');
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakers = new Set<() => void>();
  private readonly running = new Set<Promise<void>>();
  private seq = 0;
  private closed = false;
  private pingTimer: NodeJS.Timeout | undefined;
  readonly handshakes: PacHandshake[] = [];
  readonly requests: PacRequestRecord[] = [];
  readonly runs: PacTerminalRun[] = [];
  readonly switches: PacSwitches = wellBehaved();
  readonly settings: PacSettings;

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly logger: Logger,
    private readonly opts: PacHubOptions,
  ) {
    this.settings = { ...PAC_DEFAULT_SETTINGS, ...(opts.pac ?? {}) };
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false, maxPayload: opts.maxPayloadBytes });
    this.pingTimer = setInterval(() => this.pingAll(), opts.pingIntervalMs);
    this.pingTimer.unref();
  }

  // ---- settings and switches

  configure(s: Partial<PacSettings>): PacSettings {
    for (const [k, v] of Object.entries(s)) if (v !== undefined) (this.settings as unknown as Record<string, number>)[k] = v;
    return this.settings;
  }

  setSwitches(s: Partial<PacSwitches>): PacSwitches {
    for (const [k, v] of Object.entries(s)) if (v !== undefined) (this.switches as unknown as Record<string, unknown>)[k] = v;
    return this.switches;
  }

  resetSwitches(): PacSwitches {
    return Object.assign(this.switches, wellBehaved());
  }

  // ---- terminals

  /** The account's terminals (the defaults, PAC_DEFAULT_TIDS, on first use). */
  terminals(accountId: string): Map<string, VirtualTerminal> {
    let t = this.terminalsByAccount.get(accountId);
    if (!t) {
      t = new Map(PAC_DEFAULT_TIDS.map((tid) => [tid, this.newTerminal(tid)]));
      this.terminalsByAccount.set(accountId, t);
    }
    return t;
  }

  private newTerminal(tid: string, currency = 'GBP', location = 'Sandbox counter'): VirtualTerminal {
    return { tid, currency, location, transactions: 0 };
  }

  /** Adds (or replaces the settings of) a terminal. */
  addTerminal(accountId: string, t: { tid: string; currency?: string; location?: string }): VirtualTerminal {
    const tid = ConnectPac.tidParamsSchema.safeParse({ tid: t.tid });
    if (!tid.success) throw new SandboxInputError('tid must be 1 to 64 characters', { tid: ['must be 1 to 64 characters'] });
    if (t.currency !== undefined && !/^[A-Z]{3}$/.test(t.currency)) throw new SandboxInputError('currency must be an ISO 4217 code', { currency: ['must be an ISO 4217 code'] });
    const all = this.terminals(accountId);
    const existing = all.get(t.tid);
    if (existing) {
      if (t.currency) existing.currency = t.currency;
      if (t.location) existing.location = t.location;
      return existing;
    }
    const created = this.newTerminal(t.tid, t.currency, t.location);
    all.set(t.tid, created);
    return created;
  }

  /** Takes a terminal away (as if switched off): false when it is running a transaction or unknown. */
  removeTerminal(accountId: string, tid: string): boolean {
    const all = this.terminals(accountId);
    const t = all.get(tid);
    if (!t || t.running) return false;
    return all.delete(tid);
  }

  terminalView(t: VirtualTerminal): ConnectPac.PacTerminal {
    return { tid: t.tid, status: t.running ? 'BUSY' : 'AVAILABLE', currency: t.currency, location: t.location };
  }

  // ---- connections

  connections(accountId?: string): PacConnection[] {
    const out: PacConnection[] = [];
    for (const [a, set] of this.byAccount) if (!accountId || a === accountId) out.push(...set);
    return out;
  }

  connectionCounts(): Record<string, number> {
    return Object.fromEntries([...this.byAccount].map(([k, v]) => [k, v.size]));
  }

  private pingAll(): void {
    pingConnections(this.connections(), this.opts.pongTimeoutMs, this.logger, 'PAC');
  }

  /** Handles an HTTP upgrade on /pac (false: not ours). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const raw = req.url ?? '/';
    const { path, params } = parseConnectQuery(raw);
    if (path !== ConnectPac.CONNECT_PAC_PATH) return false;
    const token = params.get(Q.token);
    const account = token ? this.accounts.byApiKey(token) : undefined;
    let status: PacHandshake['status'] | undefined;
    let reason: string | undefined;
    if (this.switches.refuseHandshake) [status, reason] = [this.switches.refuseHandshake, 'refused by the sandbox switch'];
    else if (!token) [status, reason] = [401, 'missing token'];
    else if (!account) [status, reason] = [401, 'unknown token'];
    else if (params.get(Q.apiVersion) !== ConnectPac.CONNECT_PAC_API_VERSION) [status, reason] = [400, `${Q.apiVersion} must be ${ConnectPac.CONNECT_PAC_API_VERSION}`];
    else if (!params.get(Q.softwareHouseId)) [status, reason] = [400, `missing ${Q.softwareHouseId}`];
    else if (params.get(Q.softwareHouseId) !== account.softwareHouseId) [status, reason] = [401, `${Q.softwareHouseId} does not match the token`];
    else if (!params.get(Q.installerId)) [status, reason] = [400, `missing ${Q.installerId}`];
    this.keep(this.handshakes, { at: new Date().toISOString(), accountId: account?.accountId ?? null, rawUrl: raw, status: status ?? 101, ...(reason ? { reason } : {}) });
    if (status || !account) {
      this.logger.info({ status, reason }, 'PAC handshake refused');
      const body = JSON.stringify({ status, detail: reason });
      const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[status as 400 | 401 | 403 | 503];
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, account, params.get(Q.installerId)!));
    return true;
  }

  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > MAX_KEPT) list.shift();
  }

  private accept(ws: WebSocket, account: SandboxAccount, installerId: string): void {
    const conn: PacConnection = {
      id: `pac_${this.idPrefix}_${++this.seq}`,
      accountId: account.accountId,
      installerId,
      socket: ws,
      notices: [],
      pingsSent: 0,
      pongsReceived: 0,
      awaitingPongSince: null,
      held: [],
    };
    const log = this.logger.child({ locationId: account.accountId, connectionId: conn.id });
    let set = this.byAccount.get(account.accountId);
    if (!set) this.byAccount.set(account.accountId, (set = new Set()));
    set.add(conn);
    log.info({ sockets: set.size }, 'EPOS connected over PAC');
    ws.on('message', (data) => this.onMessage(conn, (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8')));
    ws.on('ping', (data) => {
      if (ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on('pong', () => {
      conn.pongsReceived++;
      conn.awaitingPongSince = null;
    });
    ws.on('error', (err) => log.warn({ err: err.message }, 'PAC socket error'));
    ws.on('close', (code) => {
      const s = this.byAccount.get(conn.accountId);
      s?.delete(conn);
      if (s?.size === 0) this.byAccount.delete(conn.accountId);
      if (conn.heldTimer) clearTimeout(conn.heldTimer);
      log.info({ code }, 'EPOS PAC connection closed');
    });
  }

  // ---- frames out (each checked with the codec first)

  private sendChecked(conn: PacConnection, frame: string, check: (d: ConnectPac.PacDecoded) => string | undefined): boolean {
    const problem = check(ConnectPac.decodePacFrame(frame));
    if (problem) throw new PacFrameError(`the sandbox would send a frame its codec refuses (${problem}): ${frame.slice(0, 300)}`);
    if (conn.socket.readyState !== WebSocket.OPEN) return false;
    conn.socket.send(frame);
    return true;
  }

  private reply<M extends ConnectPac.PacRequestMethod>(conn: PacConnection, id: PacId, method: M, result: ConnectPac.PacResults[M], o: { unreadable?: boolean } = {}): boolean {
    const frame = JSON.stringify({ jsonrpc: '2.0', id, result: o.unreadable ? breakResult(result) : result });
    const problem = ConnectPac.decodePacFrame(frame);
    if (problem.kind !== 'reply' || problem.id !== id) throw new PacFrameError(`a ${method} reply does not decode as a reply: ${frame.slice(0, 300)}`);
    const schema = ConnectPac.pacResultProblem(method, problem.result);
    if (schema && !o.unreadable) throw new PacFrameError(`the sandbox's ${method} result breaks the codec: ${schema}`);
    if (!schema && o.unreadable) throw new PacFrameError(`the unreadable ${method} result still fits the codec`);
    if (conn.socket.readyState !== WebSocket.OPEN) return false;
    if (this.switches.outOfOrder) {
      conn.held.push(frame);
      if (conn.held.length >= 2) this.flushHeld(conn);
      else conn.heldTimer ??= this.timer(() => this.flushHeld(conn), HOLD_MS);
      return true;
    }
    conn.socket.send(frame);
    return true;
  }

  private flushHeld(conn: PacConnection): void {
    if (conn.heldTimer) {
      clearTimeout(conn.heldTimer);
      this.timers.delete(conn.heldTimer);
      conn.heldTimer = undefined;
    }
    const frames = conn.held.splice(0).reverse();
    for (const f of frames) if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(f);
  }

  private replyError(conn: PacConnection, id: PacId | null, error: PacError): void {
    this.sendChecked(conn, JSON.stringify({ jsonrpc: '2.0', id, error }), (d) =>
      id === null ? (d.kind === 'notice' ? undefined : `kind ${d.kind}`) : d.kind === 'reply-error' && ConnectPat.errorMessageSchema.safeParse(d.error).success ? undefined : `kind ${d.kind}`,
    );
  }

  private notify(conn: PacConnection, tid: string, notificationValue: string): void {
    if (!(ConnectPac.NOTIFICATION_VALUES as readonly string[]).includes(notificationValue)) throw new PacFrameError(`${notificationValue} is not a notification value of the codec`);
    const params = ConnectPac.PAC_INBOUND_PARAMS.terminalNotification.parse({ tid, notificationValue });
    this.sendChecked(conn, JSON.stringify({ jsonrpc: '2.0', method: ConnectPac.PAC_INBOUND.terminalNotification, params }), (d) =>
      d.kind === 'notification' && d.params.notificationValue === notificationValue ? undefined : `kind ${d.kind}`,
    );
  }

  // ---- frames in

  private onMessage(conn: PacConnection, text: string): void {
    const d = ConnectPac.decodePacRequest(text);
    const at = new Date().toISOString();
    if (d.ok === 'reply') {
      this.onEposReply(conn, d.id, d.body);
      return;
    }
    if (d.ok === false) {
      this.keep(this.requests, { at, accountId: conn.accountId, connectionId: conn.id, id: d.id, method: null, answer: 'error', error: d.error });
      this.keep(conn.notices, { refused: text.slice(0, 2048), error: d.error });
      this.replyError(conn, d.id, d.error);
      return;
    }
    const rec: PacRequestRecord = { at, accountId: conn.accountId, connectionId: conn.id, id: d.id, method: d.method, params: d.params, answer: 'result' };
    this.keep(this.requests, rec);
    const fail = (error: PacError) => {
      rec.answer = 'error';
      rec.error = error;
      this.replyError(conn, d.id, error);
    };
    const terminals = this.terminals(conn.accountId);
    const P = d.params as Partial<ConnectPac.PacRequestParams['sale']>;
    const terminal = P.tid !== undefined ? terminals.get(P.tid) : undefined;
    if (d.method !== 'connectedTerminals' && !terminal) return fail({ code: E.terminalNotFound, message: `no connected terminal ${P.tid}` });
    switch (d.method) {
      case 'connectedTerminals':
        this.reply(conn, d.id, 'connectedTerminals', { terminals: [...terminals.values()].map((t) => this.terminalView(t)) });
        return;
      case 'terminalDetails':
        this.reply(conn, d.id, 'terminalDetails', this.terminalView(terminal!));
        return;
      case 'duplicate':
        if (terminal!.running) return fail({ code: E.terminalBusy, message: `terminal ${terminal!.tid} is busy` });
        if (!terminal!.last) return fail({ code: E.noTransaction, message: `terminal ${terminal!.tid} has no last transaction` });
        this.reply(conn, d.id, 'duplicate', terminal!.last);
        return;
      case 'cancelTransaction': {
        const r = terminal!.running;
        if (!r) return fail({ code: E.noTransaction, message: `terminal ${terminal!.tid} has no transaction to cancel` });
        this.reply(conn, d.id, 'cancelTransaction', { status: 'CANCELLING' });
        this.cancel(r);
        return;
      }
      case 'sale':
      case 'refund': {
        const p = d.params as ConnectPac.PacRequestParams['sale'];
        if (terminal!.running) return fail({ code: E.terminalBusy, message: `terminal ${terminal!.tid} is busy` });
        if (p.currency !== terminal!.currency) return fail({ code: E.invalidParams, message: `params.currency ${p.currency} is not the terminal's currency (${terminal!.currency})` });
        rec.answer = 'later';
        this.start(conn, terminal!, d.id, d.method, p);
        return;
      }
    }
  }

  /** The EPOS's answer to our signatureVerificationRequest (or a stray reply: kept as a notice). */
  private onEposReply(conn: PacConnection, id: PacId, body: Record<string, unknown>): void {
    for (const t of this.terminals(conn.accountId).values()) {
      const r = t.running;
      if (r?.run.signature?.requestId !== String(id) || !r.signatureAnswer) continue;
      const ok = ConnectPac.signatureVerificationResultSchema.safeParse(body.result);
      if (!ok.success) {
        this.keep(conn.notices, { badSignatureAnswer: body });
        return;
      }
      r.signatureAnswer(ok.data.accepted);
      return;
    }
    this.keep(conn.notices, { unmatchedReply: body });
  }

  // ---- a terminal's transaction

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** Waits `ms`, or less when the transaction is woken (a cancel, a signature answer) or the hub closes. */
  private pause(tx: RunningTx | undefined, ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.timers.delete(t);
        this.wakers.delete(wake);
        if (tx?.wake === wake) tx.wake = undefined;
        resolve();
      };
      const t = this.timer(wake, ms);
      this.wakers.add(wake);
      if (tx) tx.wake = wake;
    });
  }

  private cancel(tx: RunningTx): void {
    if (tx.run.cancelRequested) return;
    tx.run.cancelRequested = true;
    this.step(tx, 'ATTEMPTING_CANCEL');
    // A stuck terminal, or one that has authorised the card, can no longer cancel.
    if (tx.decided || tx.run.outcome === 'timeout') {
      this.step(tx, 'UNABLE_TO_CANCEL');
      return;
    }
    tx.wake?.();
  }

  private step(tx: RunningTx, value: string): void {
    tx.run.notifications.push(value);
    if (tx.conn.socket.readyState === WebSocket.OPEN) this.notify(tx.conn, tx.run.tid, value);
  }

  private start(conn: PacConnection, terminal: VirtualTerminal, requestId: PacId, kind: 'sale' | 'refund', p: ConnectPac.PacRequestParams['sale']): void {
    const run: PacTerminalRun = {
      runId: `run_${this.idPrefix}_${++this.seq}`,
      accountId: conn.accountId,
      tid: terminal.tid,
      requestId,
      connectionId: conn.id,
      kind,
      amount: p.amount,
      ...(p.amountCashback ? { amountCashback: p.amountCashback } : {}),
      currency: p.currency,
      outcome: pacOutcome(terminal.tid, p.amount),
      startedAt: new Date().toISOString(),
      notifications: [],
      cancelRequested: false,
    };
    this.keep(this.runs, run);
    const tx: RunningTx = { run, conn, decided: false };
    terminal.running = tx;
    terminal.transactions++;
    const log = this.logger.child({ locationId: conn.accountId, tid: terminal.tid, requestId });
    log.info({ kind, amount: p.amount, outcome: run.outcome }, 'PAC transaction started');
    const done = this.runTransaction(tx, terminal)
      .catch((err: unknown) => log.error({ err: (err as Error).message }, 'PAC transaction failed in the sandbox'))
      .finally(() => {
        if (terminal.running === tx) terminal.running = undefined;
        this.running.delete(done);
      });
    this.running.add(done);
  }

  private async runTransaction(tx: RunningTx, terminal: VirtualTerminal): Promise<void> {
    const { run } = tx;
    const delay = () => this.pause(tx, this.settings.stepDelayMs + this.switches.slowNotificationsMs);
    let result: ConnectPac.PacTransactionResult | undefined;
    let verification: 'PIN' | 'SIGNATURE' | 'NONE' = 'NONE';
    let userMessage: string | undefined;
    const cancelled = () => run.cancelRequested && !tx.decided && run.outcome !== 'timeout';

    this.step(tx, 'TRANSACTION_STARTED');
    await delay();
    if (!cancelled() && !this.closed) {
      this.step(tx, 'PRESENT_CARD');
      if (run.outcome === 'cancel' || run.outcome === 'timeout') {
        // Waits at the card prompt: for a cancel (VT-CANCEL, ..03) or forever (VT-TIMEOUT, ..04).
        const until = Date.now() + this.settings.terminalTimeoutMs;
        while (!cancelled() && !this.closed && Date.now() < until) await this.pause(tx, until - Date.now());
        if (!cancelled()) [result, userMessage] = ['TIMED_OUT', 'The terminal did not finish in time'];
      } else {
        await delay();
      }
    }
    if (!result && !cancelled() && !this.closed) {
      this.step(tx, 'PLEASE_WAIT');
      await delay();
      if (run.outcome !== 'signature' && !cancelled()) {
        this.step(tx, 'PIN_ENTRY');
        verification = 'PIN';
        await delay();
      }
      if ((run.outcome === 'disconnect' || this.switches.dropMidTransaction) && !cancelled()) {
        this.logger.info({ locationId: run.accountId, tid: run.tid, connectionId: tx.conn.id }, 'PAC: dropping the socket mid-transaction (the terminal carries on)');
        tx.conn.socket.terminate();
      }
      if (!cancelled()) {
        this.step(tx, 'CONNECTING');
        await delay();
        this.step(tx, 'REQUEST_SENT');
        await delay();
        tx.decided = true;
        if (run.outcome === 'decline') {
          this.step(tx, 'DECLINED');
          result = 'DECLINED';
          userMessage = 'Declined by the card issuer';
        } else if (run.outcome === 'signature') {
          verification = 'SIGNATURE';
          const accepted = await this.askSignature(tx, terminal);
          result = accepted ? 'SUCCESSFUL' : 'VOID';
          if (accepted) this.step(tx, 'APPROVED');
          else userMessage = 'Signature not accepted';
        } else {
          this.step(tx, 'APPROVED');
          result = 'SUCCESSFUL';
        }
        await delay();
      }
    }
    if (!result) {
      this.step(tx, 'CANCELLING');
      result = 'CANCELLED';
      userMessage = 'Cancelled';
      await delay();
    }
    if (result === 'SUCCESSFUL' || result === 'DECLINED' || result === 'VOID') {
      this.step(tx, 'REMOVE_CARD');
      await delay();
    }
    this.step(tx, 'TRANSACTION_FINISHED');
    const transaction = pacTransaction({
      tid: run.tid,
      location: terminal.location,
      kind: run.kind,
      currency: run.currency,
      amount: run.amount,
      ...(run.amountCashback ? { amountCashback: run.amountCashback } : {}),
      result,
      verification,
      notifications: run.notifications,
      transactionNumber: terminal.transactions,
      ...(userMessage ? { userMessage } : {}),
    });
    run.transaction = transaction;
    run.finishedAt = new Date().toISOString();
    terminal.last = transaction;
    terminal.running = undefined;
    this.logger.info({ locationId: run.accountId, tid: run.tid, requestId: run.requestId, result }, 'PAC transaction finished');
    if (this.switches.neverReply) {
      run.replied = false;
      return;
    }
    run.replied = this.reply(tx.conn, run.requestId, run.kind, transaction, { unreadable: this.switches.unreadableResult });
    if (this.switches.replyTwice) this.reply(tx.conn, run.requestId, run.kind, transaction, { unreadable: this.switches.unreadableResult });
  }

  /** signatureVerificationRequest to the socket that asked; its `{accepted}`, or Connect's own decision (accept) when the window passes. */
  private async askSignature(tx: RunningTx, terminal: VirtualTerminal): Promise<boolean> {
    const requestId = `sig_${this.idPrefix}_${++this.seq}`;
    tx.run.signature = { requestId, answer: 'timeout' };
    this.step(tx, 'SIGNATURE_VERIFICATION');
    const lines = pacTransaction({
      tid: tx.run.tid,
      location: terminal.location,
      kind: tx.run.kind,
      currency: tx.run.currency,
      amount: tx.run.amount,
      result: 'SUCCESSFUL',
      verification: 'SIGNATURE',
      notifications: [],
      transactionNumber: terminal.transactions,
    }).receiptLines;
    const params = ConnectPac.PAC_INBOUND_PARAMS.signatureVerificationRequest.parse({ tid: tx.run.tid, ...(lines ? { receiptLines: { MERCHANT: lines.MERCHANT ?? [] } } : {}) });
    let answer: boolean | undefined;
    const answered = new Promise<void>((resolve) => {
      tx.signatureAnswer = (accepted) => {
        answer = accepted;
        tx.signatureAnswer = undefined;
        resolve();
      };
    });
    const frame = JSON.stringify({ jsonrpc: '2.0', id: requestId, method: ConnectPac.PAC_INBOUND.signatureVerificationRequest, params });
    this.sendChecked(tx.conn, frame, (d) => (d.kind === 'request' && d.id === requestId ? undefined : `kind ${d.kind}`));
    this.step(tx, 'SIGNATURE_VERIFICATION_IN_PROGRESS');
    await Promise.race([answered, this.pause(undefined, this.settings.signatureWindowMs)]);
    tx.signatureAnswer = undefined;
    if (answer === undefined) {
      // [3P] Connect accepts by itself when the EPOS does not answer within its window.
      this.step(tx, 'SIGNATURE_VERIFICATION_TIMEOUT');
      return true;
    }
    tx.run.signature.answer = answer;
    this.step(tx, answer ? 'SIGNATURE_VERIFICATION_PROCESS_COMPLETED' : 'SIGNATURE_VERIFICATION_PROCESS_COULD_NOT_BE_COMPLETED');
    return answer;
  }

  // ---- control

  drop(opts: { accountId?: string; terminate?: boolean } = {}): number {
    let n = 0;
    for (const c of this.connections(opts.accountId)) {
      n++;
      if (opts.terminate) c.socket.terminate();
      else c.socket.close(1012, 'sandbox drop');
    }
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const wake of [...this.wakers]) wake();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.connections()) c.socket.terminate();
    await Promise.allSettled([...this.running]);
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}

/** The unreadableResult switch: the same reply with fields the codec refuses. */
function breakResult(result: unknown): unknown {
  return { ...(result as Record<string, unknown>), transactionResult: 'MAYBE', amountBase: '12.34' };
}
