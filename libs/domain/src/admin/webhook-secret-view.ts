import type { WebhookSecretRow } from '../repositories/locations.repository';
import { DomainError } from './errors';
import type { AdminDeps } from './ports';

/** A webhook secret as the admin API shows it (never the secret). */
export interface WebhookSecretView {
  id: string;
  locationId: string;
  state: string;
  dojoSubscriptionId: string | null;
  createdAt: string;
  retiredAt: string | null;
}


export const toWebhookSecretView = (r: WebhookSecretRow): WebhookSecretView => ({
  id: r.id,
  locationId: r.locationId,
  state: r.state,
  dojoSubscriptionId: r.dojoSubscriptionId,
  createdAt: r.createdAt.toISOString(),
  retiredAt: r.retiredAt?.toISOString() ?? null,
});

/** Sets a webhook secret's state (active or retired); NotFound unless it belongs to this location. */
export async function setWebhookSecretState(
  d: Pick<AdminDeps, 'locations' | 'publisher'>,
  locationId: string,
  secretId: string,
  data: { state: 'active' | 'retired'; retiredAt: Date | null },
): Promise<WebhookSecretView> {
  if (!(await d.locations.setWebhookSecretState(locationId, secretId, data))) throw DomainError.notFound('webhook secret', secretId);
  // Webhook apps cache an account's active secrets for a few seconds; the change
  // message makes them drop it at once, so a retired secret stops verifying now.
  const configVersion = await d.locations.configVersion(locationId);
  if (configVersion !== null) await d.publisher.publishChanged(locationId, configVersion);
  return toWebhookSecretView((await d.locations.webhookSecret(locationId, secretId))!);
}
