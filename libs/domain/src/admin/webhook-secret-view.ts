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
  d: Pick<AdminDeps, 'prisma'>,
  locationId: string,
  secretId: string,
  data: { state: 'active' | 'retired'; retiredAt: Date | null },
): Promise<WebhookSecretView> {
  const { count } = await d.prisma.webhookSecret.updateMany({ where: { id: secretId, locationId }, data });
  if (count === 0) throw DomainError.notFound('webhook secret', secretId);
  return toWebhookSecretView((await d.prisma.webhookSecret.findUnique({ where: { id: secretId }, select: WEBHOOK_SECRET_SELECT }))!);
}
