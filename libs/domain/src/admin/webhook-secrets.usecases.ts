import { randomBytes } from 'node:crypto';
import { apiKeyAad, webhookSecretAad } from '@app/db';
import { randomUUID } from 'node:crypto';
import { DomainError } from './errors';
import type { AdminDeps } from './ports';

export interface WebhookSecretView {
  id: string;
  locationId: string;
  state: string;
  dojoSubscriptionId: string | null;
  createdAt: string;
  retiredAt: string | null;
}

type Row = { id: string; locationId: string; state: string; dojoSubscriptionId: string | null; createdAt: Date; retiredAt: Date | null };

const view = (r: Row): WebhookSecretView => ({
  id: r.id,
  locationId: r.locationId,
  state: r.state,
  dojoSubscriptionId: r.dojoSubscriptionId,
  createdAt: r.createdAt.toISOString(),
  retiredAt: r.retiredAt?.toISOString() ?? null,
});

const SELECT = { id: true, locationId: true, state: true, dojoSubscriptionId: true, createdAt: true, retiredAt: true } as const;

async function requireLocation(d: AdminDeps, locationId: string) {
  const loc = await d.prisma.location.findUnique({ where: { id: locationId }, select: { id: true } });
  if (!loc) throw DomainError.notFound('location', locationId);
}

export class ListWebhookSecrets {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string): Promise<WebhookSecretView[]> {
    await requireLocation(this.d, locationId);
    const rows = await this.d.prisma.webhookSecret.findMany({ where: { locationId }, orderBy: { createdAt: 'asc' }, select: SELECT });
    return rows.map(view);
  }
}

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
    const row = await this.d.prisma.webhookSecret.create({
      data: {
        id,
        locationId,
        secretCiphertext: new Uint8Array(this.d.secretBox.encrypt(secret, webhookSecretAad(id))),
        state: input.active === false ? 'retired' : 'active',
        retiredAt: input.active === false ? new Date() : null,
        dojoSubscriptionId: input.dojoSubscriptionId ?? null,
      },
      select: SELECT,
    });
    return { ...view(row), ...(generated ? { secret } : {}) };
  }
}

export class ActivateWebhookSecret {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, secretId: string): Promise<WebhookSecretView> {
    const { count } = await this.d.prisma.webhookSecret.updateMany({ where: { id: secretId, locationId }, data: { state: 'active', retiredAt: null } });
    if (count === 0) throw DomainError.notFound('webhook secret', secretId);
    return view((await this.d.prisma.webhookSecret.findUnique({ where: { id: secretId }, select: SELECT }))!);
  }
}

export class RetireWebhookSecret {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, secretId: string): Promise<WebhookSecretView> {
    const { count } = await this.d.prisma.webhookSecret.updateMany({ where: { id: secretId, locationId }, data: { state: 'retired', retiredAt: new Date() } });
    if (count === 0) throw DomainError.notFound('webhook secret', secretId);
    return view((await this.d.prisma.webhookSecret.findUnique({ where: { id: secretId }, select: SELECT }))!);
  }
}

/** Payment-intent events the platform consumes. */
export const WEBHOOK_EVENTS = ['payment_intent.created', 'payment_intent.status_updated'];

/**
 * Subscribes the location's webhook with Dojo (POST /webhooks) and stores the
 * secret(s) Dojo returns, active as Dojo reports them.
 */
export class SubscribeLocationWebhook {
  constructor(private readonly d: AdminDeps) {}
  async execute(locationId: string, input: { url?: string; events?: string[] }): Promise<{ subscriptionId: string; secrets: WebhookSecretView[] }> {
    const loc = await this.d.prisma.location.findUnique({ where: { id: locationId }, include: { softwareHouse: true } });
    if (!loc) throw DomainError.notFound('location', locationId);
    const url = input.url ?? this.d.webhookPublicUrl;
    if (!url) throw DomainError.invalid([{ field: 'url', reason: 'is required when WEBHOOK_PUBLIC_URL is not configured' }]);
    const apiKey = this.d.secretBox.decrypt(loc.apiKeyCiphertext, apiKeyAad(loc.id));
    const sub = await this.d.dojo.subscribeWebhook(
      { apiKey, baseUrl: loc.restUrl, softwareHouseId: loc.softwareHouse.dojoSoftwareHouseId, resellerId: loc.resellerId ?? loc.softwareHouse.resellerId },
      url,
      input.events ?? WEBHOOK_EVENTS,
    );
    const add = new AddWebhookSecret(this.d);
    const secrets: WebhookSecretView[] = [];
    for (const s of sub.secrets ?? []) {
      if (!s.value) continue;
      const { secret: _shown, ...v } = await add.execute(locationId, { secret: s.value, active: s.isActive !== false, dojoSubscriptionId: sub.id });
      secrets.push(v);
    }
    return { subscriptionId: sub.id, secrets };
  }
}
