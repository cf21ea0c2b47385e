import type { AdminDeps } from '../ports';
import type { WebhookSecretView } from '../webhook-secret-view';
import { setWebhookSecretState } from '../webhook-secret-view';

/** Retires a webhook secret (signatures made with it are no longer accepted). */
export class RetireWebhookSecret {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, secretId: string): Promise<WebhookSecretView> {
    return setWebhookSecretState(this.d, locationId, secretId, { state: 'retired', retiredAt: new Date() });
  }
}
