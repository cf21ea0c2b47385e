import { randomBytes, randomUUID } from 'node:crypto';
import { webhookSecretAad } from '@app/db';
import type { AdminDeps } from '../ports';
import { requireLocation } from '../location-view';
import type { WebhookSecretView } from '../webhook-secret-view';
import { toWebhookSecretView } from '../webhook-secret-view';

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
    const id = randomUUID();
    const row = await this.d.locations.addWebhookSecret(locationId, {
      id,
      secretCiphertext: new Uint8Array(this.d.secretBox.encrypt(secret, webhookSecretAad(id))),
      state: input.active === false ? 'retired' : 'active',
      retiredAt: input.active === false ? new Date() : null,
      dojoSubscriptionId: input.dojoSubscriptionId ?? null,
    });
    return { ...toWebhookSecretView(row), ...(generated ? { secret } : {}) };
  }
}
