import WebSocket from 'ws';
import type { Logger } from '@app/common';
import type { ConnectionState, ConnectionStatus } from '@app/queue';
import { redactSecretsInText, redactUrl } from '@app/contracts';
import type { ConnectionProfile } from '../profiles/connection-profile';
import type { LocationConfig } from '../locations/location-config';
import { needsRedial } from '../locations/location-config';
import type { BackoffOptions } from './backoff';
import { Backoff } from './backoff';
import type { DialGate } from './dial-gate';
import { countedConnection } from './counted-connect';
import type { ProtocolMetrics } from '../metrics';
import { protocolMetrics } from '../metrics';

/** Keepalive timers are aligned to slots of the ping interval / this (at most 1 s): see armKeepalive. */
const KEEPALIVE_SLOTS = 25;

/** The width of the clock slots that links' keepalive timers are aligned to, for a ping interval. */
export function keepaliveSlotMs(pingIntervalMs: number): number {
  return Math.max(1, Math.min(1_000, Math.floor(pingIntervalMs / KEEPALIVE_SLOTS)));
}

/** When a keepalive check for a ping due at `dueAt` runs: the start of the clock slot it falls in (never after it). */
export function keepaliveCheckAt(dueAt: number, slotMs: number): number {
  return Math.floor(dueAt / slotMs) * slotMs;
}

export interface LinkOptions {
  /** URL used when the location has no ws_url of its own. */
  defaultUrl: string;
  /**
   * Ping when nothing was sent (or nothing received) for this long. A ping goes
   * out exactly this long after the last frame sent, so no gap between frames
   * sent on an idle link is longer than this (at most 30 s, seed 001).
   */
  pingIntervalMs: number;
  /** A ping without a pong for this long means the link is dead: terminate and reconnect. */
  pongTimeoutMs: number;
  handshakeTimeoutMs: number;
  /** Messages above this size are refused (answered with an error, the socket stays up). */
  maxMessageBytes: number;
  /** An open link that lasts this long resets the backoff schedule. */
  stableAfterMs: number;
  backoff: BackoffOptions;
}

export interface LinkHooks {
  /** True while this replica still holds the location's lease with `token` (the fencing check). */
  fenceValid(locationId: string, token: number): Promise<boolean>;
  /** The fencing check failed: the owner must step down. */
  onFenceLost(locationId: string): void;
  /** A frame arrived on `socket`; the dispatcher answers through link.reply(socket, ...). */
  onFrame(link: LocationLink, socket: WebSocket, data: Buffer, receivedAt: number): void;
  /** Something in the link's status changed. */
  onStatus(link: LocationLink): void;
  /** A socket of the link opened (the counter pump starts on a PAC link). */
  onSocketOpen?(link: LocationLink, socket: WebSocket): void;
  /** That socket is gone (closed, dropped, or the link stopped): what was in flight on it will get no reply. */
  onSocketClosed?(link: LocationLink, socket: WebSocket): void;
}

const HARD_PAYLOAD_FLOOR = 16 * 1_048_576;

/**
 * The outbound WebSocket of one location: dials with the profile's URL and
 * headers, keeps the link alive with ping/pong, detects dead links, and
 * reconnects with backoff (a longer one after an authentication refusal).
 * It never dials without first checking its fencing token.
 */
export class LocationLink {
  state: ConnectionState = 'connecting';
  since = new Date();
  lastPongAt?: Date;
  lastError?: string;
  lastHttpStatus?: number;
  nextAttemptAt?: Date;
  reconnects = 0;
  requestsServed = 0;
  /** Why the last socket or dial ended (ConnectionStatus.lastDisconnect). */
  lastDisconnect?: 'replaced' | 'auth' | 'network';

  private ws?: WebSocket;
  private stopped = false;
  private generation = 0;
  private retryTimer?: NodeJS.Timeout;
  private keepaliveTimer?: NodeJS.Timeout;
  private pongTimer?: NodeJS.Timeout;
  private stableTimer?: NodeJS.Timeout;
  private lastInboundAt = 0;
  private lastSentAt = 0;
  private redialNow = false;
  /** Why this side ended the current socket, when it did (dead link). */
  private closeCause?: string;
  private readonly backoff: Backoff;
  /** The socket that reached 'open' (a close of any other one is a failed handshake). */
  private openedWs?: WebSocket;
  /** When the outstanding ping went out (performance.now()), 0 when none is outstanding. */
  private pingSentAt = 0;
  /** The URL of the current socket with its secrets redacted (redactUrl): what logs and statuses may show. */
  private dialledUrl?: string;
  private metrics: ProtocolMetrics;

  constructor(
    public location: LocationConfig,
    readonly token: number,
    private profile: ConnectionProfile,
    private readonly opts: LinkOptions,
    private readonly hooks: LinkHooks,
    private readonly gate: DialGate,
    private readonly logger: Logger,
  ) {
    this.backoff = new Backoff(opts.backoff);
    this.metrics = protocolMetrics(profile.name);
  }

  get locationId(): string {
    return this.location.id;
  }

  get profileName(): string {
    return this.profile.name;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    void this.dial(); // never rejects: dial turns every failure into a scheduled retry
  }

  status(replicaId: string): ConnectionStatus {
    return {
      locationId: this.location.id,
      state: this.state,
      since: this.since.toISOString(),
      replicaId,
      lastPongAt: this.lastPongAt?.toISOString(),
      lastError: this.lastError,
      lastHttpStatus: this.lastHttpStatus,
      lastDisconnect: this.lastDisconnect,
      nextAttemptAt: this.state === 'backing_off' || this.state === 'auth_failed' ? this.nextAttemptAt?.toISOString() : undefined,
      reconnects: this.reconnects,
      requestsServed: this.requestsServed,
      profile: this.profile.name,
      fence: this.token,
      configVersion: this.location.configVersion,
    };
  }

  /**
   * A cheap fingerprint of status() without lastPongAt (only whether there is
   * one): it changes whenever anything else in the status does.
   */
  statusKey(): string {
    return `${this.token}|${this.state}|${this.since.getTime()}|${this.reconnects}|${this.requestsServed}|${this.lastHttpStatus ?? ''}|${
      this.nextAttemptAt?.getTime() ?? ''
    }|${this.location.configVersion}|${this.lastPongAt ? 1 : 0}|${this.lastError ?? ''}`;
  }

  /**
   * New configuration: re-dial at once when credentials, URL or headers changed,
   * or when any change (an operator re-submitting the same key, for instance)
   * arrives while the link waits out an authentication refusal.
   */
  update(location: LocationConfig, profile?: ConnectionProfile): void {
    const changed = needsRedial(this.location, location);
    if (profile && profile !== this.profile) {
      this.profile = profile;
      this.metrics = protocolMetrics(profile.name);
    }
    const redial = changed || (this.state === 'auth_failed' && location.configVersion !== this.location.configVersion);
    this.location = location;
    if (!redial || this.stopped) {
      this.hooks.onStatus(this);
      return;
    }
    const why = changed ? 'location credentials changed: re-dialling' : 'location changed while its key was refused: retrying now';
    this.logger.info({ locationId: location.id, configVersion: location.configVersion }, why);
    this.redialAtOnce('credentials changed');
  }

  /**
   * An operator's reconnect: forget the backoff and dial again now (an open
   * link is closed first). Returns what it did, for the caller's log.
   */
  reconnectNow(): 'redialled' | 'reopened' | 'already dialling' | 'stopped' {
    if (this.stopped) return 'stopped';
    return this.redialAtOnce('reconnect requested');
  }

  private redialAtOnce(reason: string): 'redialled' | 'reopened' | 'already dialling' {
    this.backoff.reset();
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      void this.dial(); // never rejects: dial turns every failure into a scheduled retry
      return 'redialled';
    }
    if (this.ws) {
      this.redialNow = true;
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, reason);
      else this.ws.terminate();
      return 'reopened';
    }
    return 'already dialling';
  }

  /** Sends a reply on the socket the request came in on, if it is still open and this replica still owns the location. */
  async reply(socket: WebSocket, text: string): Promise<boolean> {
    const sent = await this.sendOn(socket, text);
    if (sent) this.requestsServed++;
    return sent;
  }

  /**
   * Sends a request of this side's own (Connect PAC: sale, cancelTransaction, ...) on `socket`, if it is still the
   * link's open socket and this replica still owns the location. False when it was not sent.
   */
  async send(socket: WebSocket, text: string): Promise<boolean> {
    if (socket !== this.ws || socket !== this.openedWs) return false;
    return this.sendOn(socket, text);
  }

  private async sendOn(socket: WebSocket, text: string): Promise<boolean> {
    if (socket.readyState !== WebSocket.OPEN || this.stopped) return false;
    if (!(await this.hooks.fenceValid(this.location.id, this.token))) {
      this.hooks.onFenceLost(this.location.id);
      return false;
    }
    if (socket.readyState !== WebSocket.OPEN || this.stopped) return false;
    socket.send(text);
    this.metrics.framesOut.inc();
    this.lastSentAt = Date.now();
    return true;
  }

  /** Closes the link for good (handover, disable, shutdown). */
  async stop(code = 1001, reason = 'going away', finalState?: ConnectionState): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearLiveTimers();
    if (finalState) this.setState(finalState);
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    if (ws === this.openedWs) this.hooks.onSocketClosed?.(this, ws);
    if (ws.readyState !== WebSocket.OPEN) {
      ws.terminate();
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(code, reason);
    });
  }

  private setState(state: ConnectionState): void {
    if (this.state !== state) {
      this.state = state;
      this.since = new Date();
    }
    this.hooks.onStatus(this);
  }

  private async dial(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const gen = ++this.generation;
    this.setState('connecting');
    const slot = await this.gate.take();
    if (this.stopped || gen !== this.generation) return slot.cancel();
    let fenced: boolean;
    try {
      fenced = await this.hooks.fenceValid(this.location.id, this.token);
    } catch {
      fenced = false;
    }
    if (this.stopped || gen !== this.generation) return slot.cancel();
    if (!fenced) {
      slot.cancel();
      this.logger.warn({ locationId: this.location.id, fence: this.token }, 'lease lost before dialling: stepping down');
      this.hooks.onFenceLost(this.location.id);
      return;
    }
    const loc = this.location;
    if (!loc.apiKey) {
      slot.cancel();
      // The secret (API key or Connect token) cannot be decrypted.
      this.lastError = 'the API key cannot be decrypted';
      this.metrics.authRefusals.inc();
      this.scheduleRetry('auth');
      return;
    }
    let ws: WebSocket;
    let url = '';
    try {
      url = this.profile.buildUrl(loc, this.opts.defaultUrl);
      ws = new WebSocket(url, {
        // The gate counts this dial when its socket connects (the upgrade request goes out then).
        createConnection: countedConnection(slot, url.startsWith('wss:')),
        headers: this.profile.handshakeHeaders(loc),
        perMessageDeflate: false,
        handshakeTimeout: this.opts.handshakeTimeoutMs,
        // Frames above this close the socket (1009); smaller oversize messages are refused politely by the dispatcher.
        maxPayload: Math.max(HARD_PAYLOAD_FLOOR, this.opts.maxMessageBytes * 16),
        followRedirects: false,
      });
    } catch (err) {
      slot.cancel(); // nothing was dialled (a bad URL or headers: ws throws before its socket exists)
      // The URL may carry a secret (Connect's token): never shown, in the status or the log.
      this.lastError = redactSecretsInText(`cannot dial ${redactUrl(url)}: ${(err as Error).message}`);
      this.scheduleRetry('error');
      return;
    }
    this.ws = ws;
    this.dialledUrl = redactUrl(url);
    let httpStatus: number | undefined;
    let socketError: string | undefined;
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const now = Date.now();
      this.lastInboundAt = now;
      this.metrics.framesIn.inc();
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.hooks.onFrame(this, ws, buf, now);
    });
    ws.on('ping', () => {
      // ws answers pings with a pong by itself, at once.
      this.lastInboundAt = Date.now();
    });
    ws.on('pong', () => {
      this.lastInboundAt = Date.now();
      this.lastPongAt = new Date();
      if (this.pingSentAt > 0) {
        this.metrics.pingRtt.observe((performance.now() - this.pingSentAt) / 1000);
        this.pingSentAt = 0;
      }
      if (this.pongTimer) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    });
    ws.on('error', (err: Error) => {
      const m = /Unexpected server response: (\d{3})/.exec(err.message);
      if (m) httpStatus = Number(m[1]);
      socketError = redactSecretsInText(err.message);
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(ws, code, reason.toString('utf8').slice(0, 200), httpStatus, socketError));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    const now = Date.now();
    this.lastInboundAt = now;
    this.lastSentAt = now;
    this.lastHttpStatus = undefined;
    this.nextAttemptAt = undefined;
    this.openedWs = ws;
    this.pingSentAt = 0;
    this.metrics.connects.inc();
    this.logger.info({ locationId: this.location.id, fence: this.token, reconnects: this.reconnects, protocol: this.profile.name, url: this.dialledUrl }, 'link open');
    this.armKeepalive(ws, this.opts.pingIntervalMs);
    this.stableTimer = setTimeout(() => this.backoff.reset(), this.opts.stableAfterMs);
    this.setState('open');
    this.hooks.onSocketOpen?.(this, ws);
  }

  /**
   * One timer per link, never re-armed per frame: it fires when the link may
   * have gone idle, pings if nothing was sent (or received) for a whole
   * interval, and otherwise sleeps for exactly the time left until that would
   * be true. So the gap between frames sent never exceeds the interval (plus
   * timer latency), however traffic and pings interleave.
   *
   * Links fire together: the timer is set for the start of the clock's slot
   * (KEEPALIVE_SLOTS per interval, at most a second) in which the ping falls
   * due, and a link pings when its due time is within the current slot. So the
   * pings of all the links due in the same second go out in one turn of the
   * event loop, and their pongs come back together, instead of each costing
   * the gateway two wake-ups of its own. A ping goes out at most one slot
   * early, never late.
   */
  private armKeepalive(ws: WebSocket, delayMs: number): void {
    const now = Date.now();
    const at = keepaliveCheckAt(now + delayMs, keepaliveSlotMs(this.opts.pingIntervalMs));
    this.keepaliveTimer = setTimeout(() => this.keepaliveTick(ws), Math.max(1, at - now));
  }

  private keepaliveTick(ws: WebSocket): void {
    this.keepaliveTimer = undefined;
    if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
    const interval = this.opts.pingIntervalMs;
    const now = Date.now();
    // Due when nothing was sent for an interval (the keepalive Dojo asks for), or nothing
    // was received for one (so a half-open link is found even while replies still go out).
    const dueAt = Math.min(this.lastSentAt, this.lastInboundAt) + interval;
    // Due within the slot that has begun: ping now, with the other links of this slot.
    if (now < keepaliveCheckAt(dueAt, keepaliveSlotMs(interval))) {
      this.armKeepalive(ws, dueAt - now);
      return;
    }
    this.lastSentAt = now;
    if (this.pingSentAt === 0) this.pingSentAt = performance.now();
    ws.ping();
    this.armKeepalive(ws, interval);
    // One outstanding pong deadline at a time; a later ping does not push it back.
    if (this.pongTimer) return;
    this.pongTimer = setTimeout(() => {
      this.pongTimer = undefined;
      if (ws !== this.ws) return;
      this.closeCause = `no pong within ${this.opts.pongTimeoutMs} ms: link presumed dead`;
      this.logger.warn({ locationId: this.location.id }, 'dead link: terminating');
      ws.terminate();
    }, this.opts.pongTimeoutMs);
  }

  private clearLiveTimers(): void {
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.keepaliveTimer = this.pongTimer = this.stableTimer = undefined;
  }

  private onClose(ws: WebSocket, code: number, reason: string, httpStatus?: number, socketError?: string): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.clearLiveTimers();
    if (ws === this.openedWs) this.hooks.onSocketClosed?.(this, ws);
    if (this.stopped) return;
    if (this.redialNow) {
      this.redialNow = false;
      void this.dial(); // never rejects: dial turns every failure into a scheduled retry
      return;
    }
    this.lastHttpStatus = httpStatus;
    const auth = httpStatus === 401 || httpStatus === 403;
    if (auth) this.metrics.authRefusals.inc();
    if (this.openedWs !== ws) {
      (auth ? this.metrics.handshakeAuth : httpStatus ? this.metrics.handshakeHttp : this.metrics.handshakeNetwork).inc();
    }
    // Asked on every close, so a replacement notice never outlives its socket.
    const replaced = this.profile.takeReplaced?.(this.location.id, reason) === true && !auth;
    this.lastDisconnect = auth ? 'auth' : replaced ? 'replaced' : 'network';
    if (auth) this.lastError = `handshake refused with HTTP ${httpStatus}: check the API key and software-house-id`;
    else if (replaced) this.lastError = 'replaced: the far end served a newer connection of this site and closed this one (Connection Discontinued)';
    else this.lastError = redactSecretsInText(this.closeCause ?? socketError ?? `closed with code ${code}${reason ? ` (${reason})` : ''}`);
    this.closeCause = undefined;
    this.scheduleRetry(auth ? 'auth' : 'error');
  }

  private scheduleRetry(kind: 'error' | 'auth'): void {
    if (this.stopped) return;
    const delay = this.backoff.next(kind);
    this.nextAttemptAt = new Date(Date.now() + delay);
    this.reconnects++;
    this.metrics.reconnects.inc();
    this.logger.info({ locationId: this.location.id, delayMs: delay, kind, lastError: this.lastError }, 'link down: retrying later');
    this.setState(kind === 'auth' ? 'auth_failed' : 'backing_off');
    this.retryTimer = setTimeout(() => void this.dial(), delay); // dial never rejects (see start)
  }
}
