import type { AdminDeps } from '../ports';
import type { WebhookSecretView } from '../webhook-secret-view';
import { setWebhookSecretState } from '../webhook-secret-view';

/** Makes a webhook secret active again (signatures made with it are accepted). */
export class ActivateWebhookSecret {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, secretId: string): Promise<WebhookSecretView> {
    return setWebhookSecretState(this.d, locationId, secretId, { state: 'active', retiredAt: null });
  }
}
