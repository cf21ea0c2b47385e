import type { Logger } from '@app/common';
import type { DojoEventPayload } from '@app/contracts';
import type { AccountRegistry } from './accounts';
import { dojoSignature } from './signature';
import type { WebhookDelivery } from './types';

export interface WebhookTarget {
  url: string;
  secret: string;
}

/** Delivers Dojo events to an account's webhook targets, signed like Dojo (dojo-signature). */
export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly logger: Logger,
    private readonly timeoutMs = 10_000,
  ) {}

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

  /** POSTs the event (compact JSON, the exact bytes signed) to every target; never throws. */
  async deliver(event: DojoEventPayload): Promise<WebhookDelivery[]> {
    const body = JSON.stringify(event);
    const results = await Promise.all(
      this.targets(event.accountId, event.event).map(async (t) => {
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
        this.logger.debug({ locationId: event.accountId, eventId: event.id, status: d.status, error: d.error }, 'webhook delivered');
        return d;
      }),
    );
    return results;
  }
}
