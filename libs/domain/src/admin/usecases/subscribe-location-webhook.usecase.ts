import { apiKeyAad } from '@app/db';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { WebhookSecretView } from '../webhook-secret-view';
import { AddWebhookSecret } from './add-webhook-secret.usecase';

/** Payment-intent events the platform consumes. */
export const WEBHOOK_EVENTS = ['payment_intent.created', 'payment_intent.status_updated'];

/**
 * Subscribes the location's webhook with Dojo (POST /webhooks) and stores the
 * secret(s) Dojo returns, active as Dojo reports them.
 */
export class SubscribeLocationWebhook {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, input: { url?: string; events?: string[] }): Promise<{ subscriptionId: string; secrets: WebhookSecretView[] }> {
    const loc = await this.d.locations.credentials(locationId);
    if (!loc) throw DomainError.notFound('location', locationId);
    const url = input.url ?? this.d.webhookPublicUrl;
    if (!url) throw DomainError.invalid([{ field: 'url', reason: 'is required when WEBHOOK_PUBLIC_URL is not configured' }]);
    const apiKey = this.d.secretBox.decrypt(loc.apiKeyCiphertext, apiKeyAad(loc.id));
    const sub = await this.d.dojo.subscribeWebhook(
      { apiKey, baseUrl: loc.restUrl, softwareHouseId: loc.softwareHouse.dojoSoftwareHouseId, resellerId: loc.resellerId ?? loc.softwareHouse.resellerId },
      url,
      input.events ?? WEBHOOK_EVENTS,
    );
    const add = new AddWebhookSecret(this.d);
    const secrets: WebhookSecretView[] = [];
    for (const s of sub.secrets ?? []) {
      if (!s.value) continue;
      const { secret: _shown, ...v } = await add.execute(locationId, { secret: s.value, active: s.isActive !== false, dojoSubscriptionId: sub.id });
      secrets.push(v);
    }
    return { subscriptionId: sub.id, secrets };
  }
}
