import http from 'node:http';
import https from 'node:https';
import { dojoApiMetrics } from '@app/common';
import type { PaymentIntentSchema } from '@app/contracts';
import { validatePaymentIntentBody } from '@app/contracts';

/**
 * One client for Dojo's REST API (https://api.dojo.tech): capability
 * registration, POS events and webhook subscriptions. Auth is `Basic <key>`
 * with the key as-is (not base64), plus the dated `version` header. Retries
 * 429 and 5xx (and network errors / timeouts) with exponential backoff and
 * jitter, honouring Retry-After. Errors say what Dojo answered; keys never
 * appear in messages.
 */
export interface DojoClientOptions {
  /** Default base URL (DOJO_API_URL). A call may override it (a location's rest_url). */
  baseUrl: string;
  /** Value of the `version` header (DOJO_API_VERSION). */
  apiVersion: string;
  timeoutMs?: number;
  /** Attempts per call, including the first. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/** Who a call is made for: the location's key and optional identification headers. */
export interface DojoCredentials {
  apiKey: string;
  /** Per-location override of the base URL. */
  baseUrl?: string | null;
  softwareHouseId?: string | null;
  resellerId?: string | null;
}

export class DojoApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    /** HTTP status, or 0 when no answer came (network error, timeout). */
    readonly status: number,
    readonly body: string,
    readonly attempts: number,
    /** How long Dojo asked to wait before the next call (its Retry-After, on the last answer), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(
      status === 0
        ? `Dojo ${method} ${path}: no answer after ${attempts} attempt(s): ${body}`
        : `Dojo ${method} ${path} answered ${status} after ${attempts} attempt(s): ${truncate(body, 500)}`,
    );
    this.name = 'DojoApiError';
  }

  /** True when repeating the same call later may succeed. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

export type PosEventBody =
  | { eventType: 'OrderUpdated'; event: { orderId: string } }
  | { eventType: 'PartyUpdated'; event: { partyId: string } }
  | { eventType: 'ReservationUpdated'; event: { reservationId: string } };

export interface WebhookSubscription {
  id: string;
  accountId?: string | null;
  events: string[];
  url: string;
  secrets?: { id: string; value: string; createdAt?: string; isActive?: boolean }[];
  createdAt?: string;
}

/** Dojo's money: minor units and an ISO 4217 code. */
export interface DojoMoney {
  value: number;
  currencyCode: string;
}

/** The part of Dojo's PaymentIntent epos-relay reads (dojo-api-openapi.json PaymentIntent). */
export interface DojoPaymentIntent {
  id: string;
  status: 'Created' | 'Authorized' | 'Captured' | 'Reversed' | 'Refunded' | 'Canceled';
  captureMode?: 'Auto' | 'Manual';
  amount: DojoMoney;
  tipsAmount?: DojoMoney | null;
  totalAmount?: DojoMoney;
  refundedAmount?: number;
  /** Its captures (CaptureDetails): each one's amount without tips, its tipsAmount and status (Successful, ...). */
  captures?: DojoCaptureDetails[] | null;
  reference?: string;
  paymentLink?: string | null;
  createdAt?: string;
  updatedAt?: string;
  [k: string]: unknown;
}

/** One capture of a payment intent (dojo-api-openapi.json CaptureDetails). */
export interface DojoCaptureDetails {
  id?: string | null;
  amount?: number;
  tipsAmount?: number | null;
  status?: 'Created' | 'Successful' | 'Declined' | 'Failed';
  createdAt?: string;
}

/** POST /payment-intents body (CreatePaymentIntentRequest), the fields epos-relay sets. */
export interface CreatePaymentIntentBody {
  amount: DojoMoney;
  reference: string;
  description?: string;
  captureMode?: 'Auto' | 'Manual';
  autoExpireAction?: 'Release' | 'Capture';
  autoExpireIn?: string;
  config?: { payment?: { tipsAllowed?: boolean; customAmountAllowed?: boolean } };
  metadata?: Record<string, string>;
}

/** Per-call options of request(). */
export interface RequestOptions {
  /**
   * Whether the call may be sent again after a 429, a 5xx, a timeout or a
   * network error. Only for calls whose repetition cannot do anything twice:
   * reads, replacements, and calls carrying an idempotency key Dojo honours.
   * Default true (the capability and POS-event calls are all such; POST /webhooks is not).
   */
  idempotent?: boolean;
  /** Sent as Dojo's `idempotencyKey` header. */
  idempotencyKey?: string;
  /** The body's schema in dojo-api-openapi.json: the body is checked before it is sent. */
  schema?: PaymentIntentSchema;
}

/** A body that does not validate against Dojo's contract: nothing was sent. */
export class DojoContractError extends Error {
  constructor(
    readonly path: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`not sent to Dojo: ${path} body ${field} ${reason} (dojo-api-openapi.json)`);
    this.name = 'DojoContractError';
  }
}

/** Version string sent with every capability (the EPOS Data guides use "v1"). */
export const CAPABILITY_VERSION = 'v1';

export class DojoClient {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  /**
   * Node's own HTTP client with keep-alive connections, not fetch: fetch (undici's WHATWG layer) cost the worker
   * about 0.3 ms more CPU per call (bench: POST /epos/events at 0.43-0.73 ms against 0.11-0.21 ms), and the outbox
   * makes one call per POS event. undici's own request() is as cheap, but undici is not one of our dependencies.
   * Idle pooled connections do not keep a process alive (the agent unrefs them).
   */
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(private readonly opts: DojoClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.backoffBaseMs = opts.backoffBaseMs ?? 200;
    this.backoffMaxMs = opts.backoffMaxMs ?? 5_000;
  }

  /** PUT /epos/integrations/ws with the full capability set (it replaces what was registered). */
  registerWsCapabilities(creds: DojoCredentials, capabilities: readonly string[]): Promise<unknown> {
    const body = { capabilities: capabilities.map((name) => ({ name, version: CAPABILITY_VERSION })) };
    return this.request(creds, 'PUT', '/epos/integrations/ws', body);
  }

  /** GET /epos/integrations: everything registered for the account. */
  listIntegrations(creds: DojoCredentials): Promise<unknown> {
    return this.request(creds, 'GET', '/epos/integrations');
  }

  /** POST /epos/events: tells Dojo an order, party or reservation changed (ids only). */
  sendPosEvent(creds: DojoCredentials, body: PosEventBody): Promise<unknown> {
    return this.request(creds, 'POST', '/epos/events', body);
  }

  /**
   * POST /webhooks: subscribes `url` to `events`; the answer carries the signing secret(s). Sent once, never
   * repeated: Dojo creates a new subscription (with new secrets) per call and takes no idempotency key, so a repeat
   * after a lost answer would leave a subscription whose secrets nobody stored. The caller looks for it instead
   * (listWebhooks).
   */
  subscribeWebhook(creds: DojoCredentials, url: string, events: string[]): Promise<WebhookSubscription> {
    return this.request(creds, 'POST', '/webhooks', { events, url }, { idempotent: false }) as Promise<WebhookSubscription>;
  }

  /** GET /webhooks: the account's subscriptions, each with its secrets; repeated on 429/5xx. */
  async listWebhooks(creds: DojoCredentials): Promise<WebhookSubscription[]> {
    const list = await this.request(creds, 'GET', '/webhooks');
    return Array.isArray(list) ? (list as WebhookSubscription[]) : [];
  }

  // ---- payment intents (dojo-api-openapi.json, tag "Payment intents", "Captures", "Refunds", "Reversal")

  /**
   * POST /payment-intents. Not repeated after a 5xx or a timeout: Dojo
   * documents no idempotency for creation, and a second intent would be a
   * second checkout. The key is sent (idempotencyKey) for Dojo's logs and
   * for the sandbox, which honours it; the caller keeps its own key too.
   */
  createPaymentIntent(creds: DojoCredentials, body: CreatePaymentIntentBody, idempotencyKey: string): Promise<DojoPaymentIntent> {
    return this.request(creds, 'POST', '/payment-intents', body, { idempotent: false, idempotencyKey, schema: 'CreatePaymentIntentRequest' }) as Promise<DojoPaymentIntent>;
  }

  /** GET /payment-intents/{id}, also when Canceled (returnCanceled=true); repeated on 429/5xx. */
  getPaymentIntent(creds: DojoCredentials, paymentIntentId: string): Promise<DojoPaymentIntent> {
    return this.request(creds, 'GET', `/payment-intents/${encodeURIComponent(paymentIntentId)}?returnCanceled=true`) as Promise<DojoPaymentIntent>;
  }

  /** DELETE /payment-intents/{id}: cancels an intent not yet paid. Repeating it changes nothing more. */
  cancelPaymentIntent(creds: DojoCredentials, paymentIntentId: string): Promise<DojoPaymentIntent> {
    return this.request(creds, 'DELETE', `/payment-intents/${encodeURIComponent(paymentIntentId)}`) as Promise<DojoPaymentIntent>;
  }

  /** POST /payment-intents/{id}/captures (an Authorized intent, Manual or Auto). Not repeated: partial captures add up. */
  capturePaymentIntent(creds: DojoCredentials, paymentIntentId: string, body: { amount: number; tipsAmount?: number | null }, idempotencyKey: string): Promise<{ captureId?: string | null; message?: string | null }> {
    return this.request(creds, 'POST', `/payment-intents/${encodeURIComponent(paymentIntentId)}/captures`, body, {
      idempotent: false,
      idempotencyKey,
      schema: 'CreateCaptureRequest',
    }) as Promise<{ captureId?: string | null }>;
  }

  /** POST /payment-intents/{id}/tips-amount: sets (replaces) the tips; repeating it sets the same value. */
  setPaymentIntentTips(creds: DojoCredentials, paymentIntentId: string, tipsAmount: DojoMoney): Promise<DojoPaymentIntent> {
    return this.request(creds, 'POST', `/payment-intents/${encodeURIComponent(paymentIntentId)}/tips-amount`, { tipsAmount }, { schema: 'SetTipsAmountRequest' }) as Promise<DojoPaymentIntent>;
  }

  /** POST /payment-intents/{id}/refunds with Dojo's required idempotencyKey header, so a repeat is the same refund. */
  refundPaymentIntent(
    creds: DojoCredentials,
    paymentIntentId: string,
    body: { amount: number; refundReason?: string; notes?: string },
    idempotencyKey: string,
  ): Promise<{ refundId?: string | null; paymentIntentId?: string | null }> {
    return this.request(creds, 'POST', `/payment-intents/${encodeURIComponent(paymentIntentId)}/refunds`, body, {
      idempotencyKey,
      schema: 'CreateRefundRequest',
    }) as Promise<{ refundId?: string | null }>;
  }

  /** POST /payment-intents/{id}/reversal (no body). Not repeated after a 5xx: its outcome is read back instead. */
  reversePaymentIntent(creds: DojoCredentials, paymentIntentId: string, idempotencyKey: string): Promise<{ reversalId?: string | null; message?: string | null }> {
    return this.request(creds, 'POST', `/payment-intents/${encodeURIComponent(paymentIntentId)}/reversal`, undefined, { idempotent: false, idempotencyKey }) as Promise<{
      reversalId?: string | null;
    }>;
  }

  async request(creds: DojoCredentials, method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<unknown> {
    if (opts.schema) {
      const v = validatePaymentIntentBody(opts.schema, body);
      if (!v.ok) throw new DojoContractError(path, v.field, v.reason);
    }
    const attempts = opts.idempotent === false ? 1 : this.maxAttempts;
    const base = (creds.baseUrl || this.opts.baseUrl).replace(/\/+$/, '');
    const url = `${base}${path}`;
    const headers: Record<string, string> = {
      authorization: `Basic ${creds.apiKey}`,
      // fetch sent one of its own; some gateways in front of APIs refuse requests without any.
      'user-agent': USER_AGENT,
      version: this.opts.apiVersion,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (creds.softwareHouseId) headers['software-house-id'] = creds.softwareHouseId;
    if (creds.resellerId) headers['reseller-id'] = creds.resellerId;
    if (opts.idempotencyKey) headers.idempotencyKey = opts.idempotencyKey;
    const payload = body === undefined ? undefined : JSON.stringify(body);

    // epos_relay_dojo_api_requests_total{endpoint,status} and _request_duration_seconds{endpoint}, per attempt.
    const metrics = dojoApiMetrics();
    const endpoint = metrics.endpoint(method, path);
    let last: DojoApiError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let retryAfterMs: number | undefined;
      const t0 = performance.now();
      let status = 'network';
      try {
        const res = await this.send(url, method, headers, payload).catch((err: Error) => {
          if (err instanceof TimeoutError) status = 'timeout';
          throw err;
        });
        status = String(res.status);
        metrics.calls.labels(endpoint, status).inc();
        metrics.duration.labels(endpoint).observe((performance.now() - t0) / 1000);
        status = '';
        if (res.status >= 200 && res.status < 300) return res.text ? safeJson(res.text) : undefined;
        retryAfterMs = parseRetryAfter(res.retryAfter);
        last = new DojoApiError(method, path, res.status, res.text, attempt, retryAfterMs);
        if (!last.retryable) throw last;
      } catch (err) {
        if (err instanceof DojoApiError && !err.retryable) throw err;
        if (!(err instanceof DojoApiError)) {
          if (status) {
            // No answer (or its body could not be read): counted here; an answer is counted above.
            metrics.calls.labels(endpoint, status).inc();
            metrics.duration.labels(endpoint).observe((performance.now() - t0) / 1000);
          }
          last = new DojoApiError(method, path, 0, (err as Error).message, attempt);
        }
      }
      if (attempt < attempts) await sleep(retryAfterMs === undefined ? this.backoff(attempt) : Math.min(MAX_RETRY_AFTER_SLEEP_MS, retryAfterMs));
    }
    throw last!;
  }

  /** One exchange: the status, the body as text and Retry-After; rejects on a network error or after timeoutMs in all. */
  private send(url: string, method: string, headers: Record<string, string>, payload: string | undefined): Promise<{ status: number; text: string; retryAfter?: string }> {
    return new Promise((resolve, reject) => {
      const secure = url.startsWith('https:');
      const h = payload === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(payload)) };
      // A body cut short by the timeout fails as the timeout too: req.destroy(err) emits it on req before res fails.
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      const req = (secure ? https : http).request(url, { method, headers: h, agent: secure ? this.agents.https : this.agents.http }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          clearTimeout(timer);
          const ra = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, text, retryAfter: Array.isArray(ra) ? ra[0] : ra });
        });
        res.on('error', fail);
      });
      // The whole exchange, answer included, within timeoutMs (as AbortSignal.timeout did for fetch).
      const timer = setTimeout(() => req.destroy(new TimeoutError(this.timeoutMs)), this.timeoutMs);
      req.on('error', fail);
      req.end(payload);
    });
  }

  private backoff(attempt: number): number {
    const exp = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const USER_AGENT = 'epos-relay';

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** The longest a call sleeps on a Retry-After before its next attempt (the error carries what Dojo asked for). */
const MAX_RETRY_AFTER_SLEEP_MS = 30_000;

/** Retry-After (seconds, or an HTTP date) in milliseconds from now. */
function parseRetryAfter(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
