import 'reflect-metadata';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from '@app/common';
import { createLogger, NestPinoLogger } from '@app/common';
import type { DojoEventPayload, JsonRpcResponse } from '@app/contracts';
import { AccountRegistry } from './accounts';
import type { CallOptions, ConnectionInfo, StrayFrame } from './epos-hub';
import { EposHub, NotRoutedError } from './epos-hub';
import { PatHub } from './pat-hub';
import type { PacSettings } from './pac-hub';
import { PacHub } from './pac-hub';
import { FlowEngine, FLOWS, paymentIntentEvents } from './flows';
import { SandboxHttpModule } from './http/sandbox-http.module';
import type { LatencyRecorder } from './latency';
import type { LoadOptions, LoadReport } from './load-generator';
import { runLoad } from './load-generator';
import type { PatLoadOptions, PatLoadReport } from './pat-load';
import { runPatLoad } from './pat-load';
import type { FlowResult, Misbehaviour, PosEventRecord, SandboxAccount, WebhookDelivery, WsIntegration } from './types';
import { WebhookSender } from './webhooks';
import { pause, REDELIVERY_DELAYS_MS, REDELIVERY_WINDOW_MS } from './redelivery';
import type { SandboxPaymentIntent, StatusChanges } from './payment-intents';
import { PaymentIntentStore } from './payment-intents';

/** How long close() waits for the flows, once told to stop, to end (a step in an outside call may take its time). */
const FLOWS_DRAIN_MS = 2_000;

/** The switches of a sandbox that behaves like Dojo (no misbehaviour). */
function wellBehaved(): Misbehaviour {
  return { duplicateRequests: false, duplicateWebhooks: false, webhooksOutOfOrder: false, loseIntentEvents: false, omitIntentCaptures: false, captureDelayMs: 0, pingsPaused: false, pingDelayMs: 0, answerPongs: true };
}

export interface SandboxOptions {
  port?: number;
  host?: string;
  accounts?: SandboxAccount[];
  /** Interval between pings to every EPOS connection (default 25 s). */
  pingIntervalMs?: number;
  /** Terminate a connection that has not answered a ping for this long (default 3 intervals; 0 disables). */
  pongTimeoutMs?: number;
  /** How long a routed request waits for the EPOS reply (default 10 s). */
  callTimeoutMs?: number;
  maxPayloadBytes?: number;
  /** Connect pay at counter (/pac): terminal timeout, signature window, pause between notifications. */
  pac?: Partial<PacSettings>;
  logger?: Logger;
  /** Used when no logger is given (default 'silent'). */
  logLevel?: string;
}

/**
 * A Dojo stand-in for EPOS development and tests: the /epos WebSocket endpoint
 * (handshake auth, capability routing, pings), Dojo's REST stand-ins, scripted
 * flows (the EPOS tester tool), misbehaviour switches and a load generator.
 *
 *   const sim = await DojoSandbox.start({ port: 0 });
 *   sim.addAccount({ apiKey, softwareHouseId, accountId });
 *   await sim.runFlow('pay-at-table', { accountId, tableId: 'T1' });
 */
export class DojoSandbox {
  readonly accounts = new AccountRegistry();
  readonly misbehaviour: Misbehaviour = wellBehaved();
  readonly hub: EposHub;
  /** Connect's pay-at-table endpoint (/pat). */
  readonly pat: PatHub;
  /** Connect's pay-at-counter endpoint (/pac) and its virtual terminals. */
  readonly pac: PacHub;
  readonly webhooks: WebhookSender;
  readonly flows: FlowEngine;
  /** Dojo's online payment intents (REST /payment-intents and the /checkout page). */
  readonly paymentIntents = new PaymentIntentStore();
  private readonly emitting = new Set<Promise<unknown>>();
  /** Aborted by close(): flows stop at their next step and their waits end; no redelivery is started. */
  private readonly closing = new AbortController();
  private app?: INestApplication;
  private _url = '';

  private constructor(
    readonly logger: Logger,
    opts: Required<Pick<SandboxOptions, 'pingIntervalMs' | 'pongTimeoutMs' | 'callTimeoutMs' | 'maxPayloadBytes'>> & Pick<SandboxOptions, 'pac'>,
  ) {
    this.hub = new EposHub(this.accounts, logger, { ...opts }, this.misbehaviour);
    this.pat = new PatHub(this.accounts, logger, { ...opts }, this.misbehaviour);
    this.pac = new PacHub(this.accounts, logger, { ...opts });
    this.webhooks = new WebhookSender(this.accounts, logger, { signal: this.closing.signal });
    this.flows = new FlowEngine(FLOWS, {
      hub: this.hub,
      pat: this.pat,
      pac: this.pac,
      accounts: this.accounts,
      webhooks: this.webhooks,
      misbehaviour: this.misbehaviour,
      logger,
      callTimeoutMs: opts.callTimeoutMs,
      signal: this.closing.signal,
    });
  }

  static async start(options: SandboxOptions = {}): Promise<DojoSandbox> {
    const logger = options.logger ?? createLogger('dojo-sandbox', options.logLevel ?? 'silent');
    const pingIntervalMs = options.pingIntervalMs ?? 25_000;
    const sim = new DojoSandbox(logger, {
      pingIntervalMs,
      pongTimeoutMs: options.pongTimeoutMs ?? pingIntervalMs * 3,
      callTimeoutMs: options.callTimeoutMs ?? 10_000,
      maxPayloadBytes: options.maxPayloadBytes ?? 4 * 1024 * 1024,
      pac: options.pac,
    });
    for (const a of options.accounts ?? []) sim.addAccount(a);
    const app = await NestFactory.create(SandboxHttpModule.forRoot(sim), { logger: new NestPinoLogger(logger), abortOnError: false });
    const server = app.getHttpServer() as Server;
    server.on('upgrade', (req, socket, head) => {
      if (!sim.hub.handleUpgrade(req, socket, head) && !sim.pat.handleUpgrade(req, socket, head) && !sim.pac.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await app.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    const addr = server.address();
    const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
    sim._url = `http://${host}:${typeof addr === 'object' && addr ? addr.port : options.port}`;
    sim.app = app;
    logger.info({ url: sim._url }, 'dojo sandbox listening');
    return sim;
  }

  /** Base URL of the REST stand-ins, flows and control API. */
  get url(): string {
    return this._url;
  }

  /** Connect's pay-at-table endpoint, without its query (ConnectPat.connectPatUrl adds it). */
  get patUrl(): string {
    return this._url.replace(/^http/, 'ws') + '/pat';
  }

  /** Connect's pay-at-counter endpoint, without its query (ConnectPac.connectPacUrl adds it). */
  get pacUrl(): string {
    return this._url.replace(/^http/, 'ws') + '/pac';
  }

  /** The prebuilt checkout page's base: `<url>/checkout/<paymentIntentId>` (Dojo's is https://pay.dojo.tech/checkout). */
  get checkoutBase(): string {
    return `${this._url}/checkout`;
  }

  /** The EPOS WebSocket endpoint. */
  get wsUrl(): string {
    return this._url.replace(/^http/, 'ws') + '/epos';
  }

  // ---- accounts and Dojo-side state

  addAccount(account: SandboxAccount): SandboxAccount {
    return this.accounts.add(account);
  }

  /** Registers `count` accounts at once (load tests): keys `sk_sandbox_<prefix>_<i>`, ids `<prefix>_<i>`. */
  addAccounts(count: number, o: { prefix?: string; softwareHouseId?: string; capabilities?: string[] } = {}): SandboxAccount[] {
    const prefix = o.prefix ?? 'acc_load';
    const out: SandboxAccount[] = [];
    for (let i = 0; i < count; i++) {
      out.push(this.addAccount({ apiKey: `sk_sandbox_${prefix}_${i}`, softwareHouseId: o.softwareHouseId ?? 'sh_sandbox', accountId: `${prefix}_${i}`, capabilities: o.capabilities }));
    }
    return out;
  }

  /** Same as PUT /epos/integrations/ws for the account (the full set; versions default to v1). */
  register(accountId: string, capabilities: string[]): WsIntegration {
    this.accounts.require(accountId);
    return this.accounts.register(accountId, capabilities.map((name) => ({ name, version: 'v1' })));
  }

  /** Registered WS integrations by account id. */
  get registrations(): Record<string, WsIntegration> {
    return Object.fromEntries(this.accounts.integrations);
  }

  /** POS events received on POST /epos/events. */
  get posEvents(): PosEventRecord[] {
    return this.accounts.posEvents;
  }

  get webhookDeliveries(): WebhookDelivery[] {
    return this.webhooks.deliveries;
  }

  // ---- connections

  connectionsFor(accountId: string): number {
    return this.hub.connectionsFor(accountId);
  }

  /** The most connections an account ever had open at once (assert 'exactly one'). */
  peakConnectionsFor(accountId: string): number {
    return this.hub.peakConnectionsFor(accountId);
  }

  connections(accountId?: string): ConnectionInfo[] {
    return this.hub.connectionInfo(accountId);
  }

  /** Frames from EPOS connections that matched no request (duplicate replies, garbage). */
  get strayFrames(): StrayFrame[] {
    return this.hub.stray;
  }

  get latency(): LatencyRecorder {
    return this.hub.latency;
  }

  // ---- calls and flows

  /**
   * Sends one method to the account's routed connection and returns the reply.
   * Rejects with NotRoutedError when its capability is not registered (nothing is
   * sent), NotConnectedError, CallTimeoutError or ConnectionClosedError.
   * `params.headers` is added ({}) when absent, as Dojo always sends it.
   * `method` is normally an EposMethod; any other name is sent as is (to test unknown methods).
   */
  call(accountId: string, method: string, params: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<JsonRpcResponse> {
    const p = params && typeof params === 'object' && !('headers' in params) ? { ...params, headers: {} } : params;
    return this.hub.call(accountId, method, p, opts);
  }

  runFlow(name: string, params: Record<string, unknown>): Promise<FlowResult> {
    return this.flows.run(name, params);
  }

  startFlow(name: string, params: Record<string, unknown>): string {
    return this.flows.start(name, params);
  }

  getFlow(flowId: string): FlowResult | undefined {
    return this.flows.get(flowId);
  }

  /**
   * Sends one payment-intent event by webhook (signed) and, when routed, over the socket as HandleEventV1, each
   * at least once as Dojo does: a failed delivery is made again (see REDELIVERY_DELAYS_MS), so this resolves
   * once each channel has taken the event or its redeliveries ran out. The webhook goes first, then the socket;
   * `tried` is called once both have made their first attempt (redeliveries may still be going on).
   */
  async sendPaymentEvent(
    accountId: string,
    event: Partial<DojoEventPayload> & { data?: Partial<DojoEventPayload['data']> } = {},
    o: { webhook?: boolean; socket?: boolean; tried?: () => void } = {},
  ): Promise<{ event: DojoEventPayload; deliveries: WebhookDelivery[]; reply?: JsonRpcResponse; socketError?: string }> {
    this.accounts.require(accountId);
    const base = paymentIntentEvents(accountId, event.data?.paymentIntentId ?? `pi_sandbox_${Date.now().toString(36)}`, (p) => `${p}${Math.random().toString(36).slice(2, 12)}`)[0];
    const full: DojoEventPayload = { ...base, ...event, accountId, data: { ...base.data, ...(event.data ?? {}) } };
    const deliveries: WebhookDelivery[] = [];
    let webhookTried!: () => void;
    const webhookFirst = new Promise<void>((r) => (webhookTried = r));
    const byWebhook = (async () => {
      if (o.webhook === false) return webhookTried();
      const times = this.misbehaviour.duplicateWebhooks ? 2 : 1;
      for (let i = 0; i < times; i++) deliveries.push(...(await this.webhooks.deliver(full, i === times - 1 ? webhookTried : undefined)));
    })();
    await webhookFirst;
    let bySocket: Promise<{ reply?: JsonRpcResponse; socketError?: string }> = Promise.resolve({});
    if (o.socket !== false) bySocket = this.deliverOverSocket(accountId, full, o.tried);
    else o.tried?.();
    await byWebhook;
    const { reply, socketError } = await bySocket;
    return { event: full, deliveries, reply, socketError };
  }

  /**
   * HandleEventV1, sent again (the same event, a new request) after no answer in time, an error answer or a
   * lost connection: once the account has a routed connection again, after REDELIVERY_DELAYS_MS, for at most
   * REDELIVERY_WINDOW_MS, and not once the sandbox is closing. An event whose capability is not registered is not
   * sent at all (NotRoutedError), as by Dojo. Resolves with the last answer, or the last failure when none came.
   */
  private async deliverOverSocket(accountId: string, event: DojoEventPayload, tried?: () => void): Promise<{ reply?: JsonRpcResponse; socketError?: string }> {
    const signal = this.closing.signal;
    const until = Date.now() + REDELIVERY_WINDOW_MS;
    for (let send = 1; ; send++) {
      let reply: JsonRpcResponse | undefined;
      let socketError: string | undefined;
      try {
        reply = await this.call(accountId, 'HandleEventV1', { ...event });
        if (!('error' in reply)) return { reply };
      } catch (err) {
        if (err instanceof NotRoutedError) return { socketError: err.message };
        socketError = (err as Error).message;
      } finally {
        if (send === 1) tried?.();
      }
      const failure = socketError ?? (reply && 'error' in reply ? `${reply.error.errorType}: ${reply.error.debugMessage}` : '');
      const delay = REDELIVERY_DELAYS_MS[send - 1];
      if (delay === undefined || Date.now() >= until || signal.aborted) {
        this.logger.warn({ locationId: accountId, eventId: event.id, sends: send, failure }, 'HandleEventV1 not taken; no more sends');
        return { reply, socketError };
      }
      this.logger.debug({ locationId: accountId, eventId: event.id, sends: send, failure }, 'HandleEventV1 not taken; sending it again');
      await pause(delay, signal);
      // A lost connection: wait for the EPOS to connect again (it reconnects by itself).
      while (!this.hub.ready(accountId, 'HandleEventV1', event) && Date.now() < until && !signal.aborted) await pause(100, signal);
      if (signal.aborted) return { reply, socketError };
    }
  }

  /**
   * Tells the EPOS about an intent's new statuses as Dojo does, after the call
   * that caused them has been answered: one payment_intent.status_updated (or
   * .created) event per status, each by signed webhook and over the socket
   * (HandleEventV1). Duplicated webhooks, reversed order and lost events follow
   * the misbehaviour switches. Never throws; close() waits for what is in flight.
   */
  emitIntentEvents(pi: SandboxPaymentIntent, statuses: StatusChanges | ['Created'], o: { created?: boolean } = {}): void {
    if (statuses.length === 0 || this.misbehaviour.loseIntentEvents) return;
    const base = Date.now();
    const events: DojoEventPayload[] = statuses.map((status, i) => ({
      id: `evt_${Math.random().toString(36).slice(2, 12)}${i}`,
      event: o.created ? 'payment_intent.created' : 'payment_intent.status_updated',
      accountId: pi.accountId,
      createdAt: new Date(base + i).toISOString(),
      data: { paymentIntentId: pi.id, paymentStatus: status, captureMode: pi.captureMode },
    }));
    if (this.misbehaviour.webhooksOutOfOrder) events.reverse();
    const track = (p: Promise<unknown>) => {
      this.emitting.add(p);
      void p.finally(() => this.emitting.delete(p));
    };
    track(
      (async () => {
        await new Promise((r) => setImmediate(r));
        // In order, each once the one before has been tried on both channels; a redelivery goes on beside the next
        // events (sendPaymentEvent says what it could not deliver in the end).
        for (const e of events) {
          await new Promise<void>((tried) => {
            const delivery = this.sendPaymentEvent(pi.accountId, e, { tried }).catch((err: Error) =>
              this.logger.warn({ err: err.message, paymentIntentId: pi.id, eventId: e.id }, 'payment intent event could not be sent'),
            );
            track(delivery);
            void delivery.finally(tried);
          });
        }
      })(),
    );
  }

  /** Loses (true) or delivers again (false) the events of online payment intents. */
  loseIntentEvents(on: boolean): void {
    this.misbehaviour.loseIntentEvents = on;
  }

  /** Answers intents without (true) or with (false) their `captures`. */
  omitIntentCaptures(on: boolean): void {
    this.misbehaviour.omitIntentCaptures = on;
  }

  /** Answers each capture `ms` after taking it (0: at once), so a test can send another request meanwhile. */
  delayCaptureAnswers(ms: number): void {
    this.misbehaviour.captureDelayMs = ms;
  }

  // ---- misbehaviour

  /** Drops one account's connections, or all when accountId is omitted. */
  dropConnections(accountId?: string, o: { terminate?: boolean; code?: number } = {}): number {
    return this.hub.drop({ accountId, ...o });
  }

  /** Pauses/resumes pings, delays each ping, or changes the interval. */
  setPings(o: { paused?: boolean; delayMs?: number; intervalMs?: number }): void {
    if (o.paused !== undefined) this.misbehaviour.pingsPaused = o.paused;
    if (o.delayMs !== undefined) this.misbehaviour.pingDelayMs = o.delayMs;
    if (o.intervalMs !== undefined) this.hub.schedulePings(o.intervalMs);
  }

  /** When false, the sandbox stops answering the EPOS's pings with pongs. */
  answerPongs(on: boolean): void {
    this.misbehaviour.answerPongs = on;
  }

  duplicateRequests(on: boolean): void {
    this.misbehaviour.duplicateRequests = on;
  }

  duplicateWebhooks(on: boolean): void {
    this.misbehaviour.duplicateWebhooks = on;
  }

  webhooksOutOfOrder(on: boolean): void {
    this.misbehaviour.webhooksOutOfOrder = on;
  }

  /** Sends a frame that is not JSON to the account's routed connection. */
  sendMalformed(accountId: string, text = '{"jsonrpc":"2.0","id":"sbx_bad",'): void {
    this.hub.sendRaw(accountId, text);
  }

  /** Tables API: an ErrorNotification about the EPOS message `id` (no reply is expected). */
  sendErrorNotification(accountId: string, id = 'sbx_unreadable', errorReason = 'the sandbox could not read a reply'): void {
    this.hub.sendRaw(accountId, JSON.stringify({ jsonrpc: '2.0', method: 'ErrorNotification', params: { errorCode: 'ERROR_PARSE_ERROR', errorReason, id } }));
  }

  /** Sends a raw text frame to the account's routed connection. */
  sendRaw(accountId: string, text: string): void {
    this.hub.sendRaw(accountId, text);
  }

  /** Sends a request for a method Dojo does not have (bypassing routing) and returns the EPOS reply. */
  sendUnknownMethod(accountId: string, method = 'UnknownMethodV9', timeoutMs = 2_000): Promise<JsonRpcResponse> {
    return this.hub.call(accountId, method, { headers: {} }, { bypassRouting: true, timeoutMs });
  }

  resetMisbehaviour(): void {
    Object.assign(this.misbehaviour, wellBehaved());
    this.pac.resetSwitches();
  }

  // ---- load

  /** Runs a method mix at a target rate over the given accounts and reports latency (p50/p95/p99/max, errors). */
  load(o: LoadOptions): Promise<LoadReport> {
    return runLoad(this.hub, o);
  }

  /** Load over Connect PAT: the terminal's list, lock, receipt and unlock cycle on each account's table. */
  patLoad(o: PatLoadOptions): Promise<PatLoadReport> {
    return runPatLoad(this.pat, o);
  }

  /**
   * Stops at once what waits (redeliveries, flows' steps and waits), lets the deliveries in flight end, closes the
   * sockets, gives the flows a moment to record how they ended, and closes the server.
   */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.emitting]);
    await this.hub.close();
    await this.pat.close();
    await this.pac.close();
    await this.flows.drain(FLOWS_DRAIN_MS);
    await this.app?.close();
  }
}
