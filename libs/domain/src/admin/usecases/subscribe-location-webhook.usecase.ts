import { apiKeyAad } from '@app/db';
import type { DojoCredentials, WebhookSubscription } from '@app/dojo-client';
import { DojoApiError } from '@app/dojo-client';
import { DomainError } from '../errors';
import { usesDojoRestKey } from '../location-rules';
import type { AdminDeps } from '../ports';
import type { WebhookSecretView } from '../webhook-secret-view';
import { newWebhookSecretRow, toWebhookSecretView } from '../webhook-secret-view';

/** Payment-intent events the platform consumes. */
export const WEBHOOK_EVENTS = ['payment_intent.created', 'payment_intent.status_updated'];

/**
 * Subscribes the location's webhook with Dojo (POST /webhooks) and stores the
 * secret(s) Dojo returns, active as Dojo reports them, in one transaction.
 *
 * Dojo makes a new subscription (with new secrets) for every POST and takes no
 * idempotency key, so the POST is sent once and never repeated. Instead, the
 * account's subscriptions (GET /webhooks) are read first and again after an
 * answer that leaves the outcome unknown (no answer, 408, 5xx): a subscription
 * to the same URL and events that no secret of this location names yet is
 * taken as this one, rather than creating another whose secrets nobody has.
 * `adopted` says the subscription was found that way.
 */
export class SubscribeLocationWebhook {
  constructor(private readonly d: AdminDeps) {}
  async execute(
    locationId: string,
    input: { url?: string; events?: string[] },
  ): Promise<{ subscriptionId: string; adopted: boolean; secrets: WebhookSecretView[] }> {
    const loc = await this.d.locations.credentials(locationId);
    if (!loc) throw DomainError.notFound('location', locationId);
    if (!usesDojoRestKey(loc.protocol)) {
      throw DomainError.invalid([{ field: 'protocol', reason: `webhook subscription with Dojo applies to epos-data only (its key is a Dojo API key); this location speaks ${loc.protocol}` }]);
    }
    const url = input.url ?? this.d.webhookPublicUrl;
    if (!url) throw DomainError.invalid([{ field: 'url', reason: 'is required when WEBHOOK_PUBLIC_URL is not configured' }]);
    const events = input.events ?? WEBHOOK_EVENTS;
    const creds: DojoCredentials = {
      apiKey: this.d.secretBox.decrypt(loc.apiKeyCiphertext, apiKeyAad(loc.id)),
      baseUrl: loc.restUrl,
      softwareHouseId: loc.softwareHouse.dojoSoftwareHouseId,
      resellerId: loc.resellerId ?? loc.softwareHouse.resellerId,
    };
    const known = new Set((await this.d.locations.webhookSecrets(locationId)).map((s) => s.dojoSubscriptionId).filter((id) => id !== null));
    // A subscription an earlier call made although its answer was lost: take it rather than make another.
    let sub = await this.unclaimed(creds, url, events, known);
    const adopted = sub !== undefined;
    if (!sub) {
      try {
        sub = await this.d.dojo.subscribeWebhook(creds, url, events);
      } catch (err) {
        if (!(err instanceof DojoApiError && outcomeUnknown(err))) throw err;
        // Dojo may have made it all the same. If the look fails too, the next call looks again before posting.
        sub = await this.unclaimed(creds, url, events, known);
        if (!sub) throw err;
        return this.store(locationId, sub, true);
      }
    }
    return this.store(locationId, sub, adopted);
  }

  /** The newest of the account's subscriptions to `url` with exactly `events` that no stored secret names. */
  private async unclaimed(creds: DojoCredentials, url: string, events: string[], known: Set<string>): Promise<WebhookSubscription | undefined> {
    const wanted = new Set(events);
    const matches = (await this.d.dojo.listWebhooks(creds)).filter(
      (s) => s.url === url && !known.has(s.id) && s.events.length === wanted.size && s.events.every((e) => wanted.has(e)),
    );
    return matches.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0];
  }

  /** Stores the subscription's secrets, all or none: a half-stored set would leave some deliveries unverifiable. */
  private async store(locationId: string, sub: WebhookSubscription, adopted: boolean) {
    const rows = await this.d.locations.transaction(async (locations) => {
      const out = [];
      for (const s of sub.secrets ?? []) {
        if (!s.value) continue;
        out.push(await locations.addWebhookSecret(locationId, newWebhookSecretRow(this.d.secretBox, s.value, { active: s.isActive !== false, dojoSubscriptionId: sub.id })));
      }
      return out;
    });
    return { subscriptionId: sub.id, adopted, secrets: rows.map(toWebhookSecretView) };
  }
}

/** No answer, 408 or a 5xx: Dojo may or may not have acted on the request. */
function outcomeUnknown(err: DojoApiError): boolean {
  return err.status === 0 || err.status === 408 || err.status >= 500;
}
