import { randomBytes } from 'node:crypto';
import type { AdminDeps } from '../ports';
import { requireLocation } from '../location-view';
import type { WebhookSecretView } from '../webhook-secret-view';
import { newWebhookSecretRow, toWebhookSecretView } from '../webhook-secret-view';

/**
 * Stores a webhook signing secret (encrypted, bound to its own id). Without a
 * value one is generated and shown once. New secrets are active unless asked
 * otherwise; several may be active at once during a rotation.
 */
export class AddWebhookSecret {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, input: { secret?: string; active?: boolean; dojoSubscriptionId?: string | null }): Promise<WebhookSecretView & { secret?: string }> {
    await requireLocation(this.d, locationId);
    const generated = input.secret === undefined;
    const secret = input.secret ?? randomBytes(32).toString('base64');
    const row = await this.d.locations.addWebhookSecret(
      locationId,
      newWebhookSecretRow(this.d.secretBox, secret, { active: input.active !== false, dojoSubscriptionId: input.dojoSubscriptionId ?? null }),
    );
    return { ...toWebhookSecretView(row), ...(generated ? { secret } : {}) };
  }
}
