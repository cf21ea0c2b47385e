import { randomUUID } from 'node:crypto';
import type { SecretBox } from '@app/db';
import { webhookSecretAad } from '@app/db';
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

/**
 * A new webhook secret's row: encrypted and bound to its own id (webhookSecretAad), active or retired now. The one
 * way a secret is made for storing, whether the operator gave it or Dojo returned it with a subscription.
 */
export function newWebhookSecretRow(secretBox: SecretBox, value: string, opts: { active: boolean; dojoSubscriptionId: string | null }) {
  const id = randomUUID();
  return {
    id,
    secretCiphertext: new Uint8Array(secretBox.encrypt(value, webhookSecretAad(id))),
    state: opts.active ? ('active' as const) : ('retired' as const),
    retiredAt: opts.active ? null : new Date(),
    dojoSubscriptionId: opts.dojoSubscriptionId,
  };
}

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
