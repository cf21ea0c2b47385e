import type { AdminDeps } from '../ports';
import { setWebhookSecretState, WebhookSecretView } from '../webhook-secret-view';

/** Retires a webhook secret (signatures made with it are no longer accepted). */
export class RetireWebhookSecret {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, secretId: string): Promise<WebhookSecretView> {
    return setWebhookSecretState(this.d, locationId, secretId, { state: 'retired', retiredAt: new Date() });
  }
}
