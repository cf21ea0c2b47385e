import type { Logger } from '@app/common';
import type { DojoEventPayload } from '@app/contracts';
import type { AccountRegistry } from './accounts';
import { pause, REDELIVERY_DELAYS_MS, REDELIVERY_WINDOW_MS } from './redelivery';
import { dojoSignature } from './signature';
import type { WebhookDelivery } from './types';

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface WebhookSenderOptions {
  /** One attempt's time limit [10000]. */
  timeoutMs?: number;
  /** The waits before each attempt after a failed one [REDELIVERY_DELAYS_MS]. */
  retryDelaysMs?: readonly number[];
  /** No attempt is started after this long since the first [REDELIVERY_WINDOW_MS]. */
  retryWindowMs?: number;
  /** Aborted when the sandbox closes: no further attempt is started. */
  signal?: AbortSignal;
}

const delivered = (d: WebhookDelivery) => d.status !== null && d.status >= 200 && d.status < 300;

/**
 * Delivers Dojo events to an account's webhook targets, signed like Dojo (dojo-signature), at least once: an
 * attempt answered other than 2xx, or not answered, is made again after a short wait (REDELIVERY_DELAYS_MS).
 */
export class WebhookSender {
  /** Every attempt, in order (`attempt` counts them per event and target). */
  readonly deliveries: WebhookDelivery[] = [];
  private readonly timeoutMs: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly retryWindowMs: number;
  private readonly signal?: AbortSignal;

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly logger: Logger,
    opts: WebhookSenderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retryDelaysMs = opts.retryDelaysMs ?? REDELIVERY_DELAYS_MS;
    this.retryWindowMs = opts.retryWindowMs ?? REDELIVERY_WINDOW_MS;
    this.signal = opts.signal;
  }

  /** Subscriptions for the event type (active secret), plus the account's own webhookUrl. */
  targets(accountId: string, eventType: string): WebhookTarget[] {
    const out: WebhookTarget[] = [];
    for (const s of this.accounts.subscriptions.get(accountId) ?? []) {
      const secret = s.secrets.find((x) => x.isActive);
      if (secret && s.events.includes(eventType)) out.push({ url: s.url, secret: secret.value });
    }
    const a = this.accounts.get(accountId);
    if (a?.webhookUrl && a.webhookSecret) out.push({ url: a.webhookUrl, secret: a.webhookSecret });
    return out;
  }

  /**
   * POSTs the event (compact JSON, the exact bytes signed) to every target, each until it answers 2xx or the
   * attempts run out; resolves with each target's last attempt. `tried` is called once every target has had its
   * first attempt. Never throws.
   */
  async deliver(event: DojoEventPayload, tried?: () => void): Promise<WebhookDelivery[]> {
    const body = JSON.stringify(event);
    const targets = this.targets(event.accountId, event.event);
    let untried = targets.length;
    if (untried === 0) tried?.();
    return Promise.all(
      targets.map(async (t) => {
        const until = Date.now() + this.retryWindowMs;
        for (let attempt = 1; ; attempt++) {
          const d = await this.post(event, t, body, attempt);
          if (attempt === 1 && --untried === 0) tried?.();
          if (delivered(d)) return d;
          const delay = this.retryDelaysMs[attempt - 1];
          if (delay === undefined || Date.now() >= until || this.signal?.aborted) {
            this.logger.warn({ locationId: event.accountId, eventId: event.id, url: t.url, attempts: attempt, status: d.status, error: d.error }, 'webhook not delivered; no more attempts');
            return d;
          }
          await pause(delay, this.signal);
          if (this.signal?.aborted) return d;
        }
      }),
    );
  }

  private async post(event: DojoEventPayload, t: WebhookTarget, body: string, attempt: number): Promise<WebhookDelivery> {
    const signature = dojoSignature(t.secret, body);
    const started = performance.now();
    const d: WebhookDelivery = {
      accountId: event.accountId,
      url: t.url,
      eventId: event.id,
      event: event.event,
      paymentStatus: event.data.paymentStatus,
      signature,
      status: null,
      ms: 0,
      at: new Date().toISOString(),
      attempt,
    };
    try {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'dojo-signature': signature },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      d.status = res.status;
      await res.arrayBuffer().catch(() => undefined); // only drains the body; the status is what counts
    } catch (err) {
      d.error = (err as Error).message;
    }
    d.ms = Math.round((performance.now() - started) * 1000) / 1000;
    this.deliveries.push(d);
    if (this.deliveries.length > 10_000) this.deliveries.shift();
    this.logger.debug({ locationId: event.accountId, eventId: event.id, attempt, status: d.status, error: d.error }, 'webhook delivered');
    return d;
  }
}
