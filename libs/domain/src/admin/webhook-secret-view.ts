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

type Row = { id: string; locationId: string; state: string; dojoSubscriptionId: string | null; createdAt: Date; retiredAt: Date | null };

export const toWebhookSecretView = (r: Row): WebhookSecretView => ({
  id: r.id,
  locationId: r.locationId,
  state: r.state,
  dojoSubscriptionId: r.dojoSubscriptionId,
  createdAt: r.createdAt.toISOString(),
  retiredAt: r.retiredAt?.toISOString() ?? null,
});

export const WEBHOOK_SECRET_SELECT = { id: true, locationId: true, state: true, dojoSubscriptionId: true, createdAt: true, retiredAt: true } as const;

/** Sets a webhook secret's state (active or retired); NotFound unless it belongs to this location. */
export async function setWebhookSecretState(
  d: Pick<AdminDeps, 'prisma' | 'publisher'>,
  locationId: string,
  secretId: string,
  data: { state: 'active' | 'retired'; retiredAt: Date | null },
): Promise<WebhookSecretView> {
  const { count } = await d.prisma.webhookSecret.updateMany({ where: { id: secretId, locationId }, data });
  if (count === 0) throw DomainError.notFound('webhook secret', secretId);
  // Webhook apps cache an account's active secrets for a few seconds; the change
  // message makes them drop it at once, so a retired secret stops verifying now.
  const loc = await d.prisma.location.findUnique({ where: { id: locationId }, select: { configVersion: true } });
  if (loc) await d.publisher.publishChanged(locationId, loc.configVersion);
  return toWebhookSecretView((await d.prisma.webhookSecret.findUnique({ where: { id: secretId }, select: WEBHOOK_SECRET_SELECT }))!);
}
