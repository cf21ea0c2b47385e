import type { AdminDeps } from '../ports';
import { requireLocation } from '../location-view';
import type { WebhookSecretView } from '../webhook-secret-view';
import { toWebhookSecretView } from '../webhook-secret-view';

/** A location's webhook secrets, oldest first (never the secrets themselves). */
export class ListWebhookSecrets {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string): Promise<WebhookSecretView[]> {
    await requireLocation(this.d, locationId);
    const rows = await this.d.locations.webhookSecrets(locationId);
    return rows.map(toWebhookSecretView);
  }
}
