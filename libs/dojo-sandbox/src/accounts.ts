import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { unknownCapabilities } from '@app/contracts';
import type { CapabilityRecord, PosEventRecord, SandboxAccount, WebhookSubscription, WsIntegration } from './types';

export class SandboxInputError extends Error {
  constructor(
    message: string,
    readonly errors: Record<string, string[]> = {},
  ) {
    super(message);
    this.name = 'SandboxInputError';
  }
}

const POS_EVENT_TYPES: Record<string, string> = { OrderUpdated: 'orderId', PartyUpdated: 'partyId', ReservationUpdated: 'reservationId' };

const randomId = (prefix: string, bytes = 12) => `${prefix}${randomBytes(bytes).toString('base64url')}`;

/**
 * Dojo-side state per account: keys, registered capabilities, webhook
 * subscriptions and the POS events the EPOS posted.
 */
export class AccountRegistry {
  private readonly byKey = new Map<string, SandboxAccount>();
  private readonly byId = new Map<string, SandboxAccount>();
  readonly integrations = new Map<string, WsIntegration>();
  readonly subscriptions = new Map<string, WebhookSubscription[]>();
  readonly posEvents: PosEventRecord[] = [];

  add(account: SandboxAccount): SandboxAccount {
    for (const f of ['apiKey', 'softwareHouseId', 'accountId'] as const) {
      if (typeof account[f] !== 'string' || account[f].length === 0) throw new SandboxInputError(`account.${f} must be a non-empty string`);
    }
    const previous = this.byId.get(account.accountId);
    if (previous) this.byKey.delete(previous.apiKey);
    const other = this.byKey.get(account.apiKey);
    if (other && other.accountId !== account.accountId) throw new SandboxInputError(`apiKey is already used by ${other.accountId}`);
    const stored: SandboxAccount = { ...account };
    this.byKey.set(account.apiKey, stored);
    this.byId.set(account.accountId, stored);
    if (account.capabilities) this.register(account.accountId, account.capabilities.map((name) => ({ name, version: 'v1' })));
    return stored;
  }

  remove(accountId: string): void {
    const a = this.byId.get(accountId);
    if (!a) return;
    this.byId.delete(accountId);
    this.byKey.delete(a.apiKey);
    this.integrations.delete(accountId);
    this.subscriptions.delete(accountId);
  }

  byApiKey(key: string): SandboxAccount | undefined {
    return this.byKey.get(key);
  }

  get(accountId: string): SandboxAccount | undefined {
    return this.byId.get(accountId);
  }

  require(accountId: string): SandboxAccount {
    const a = this.byId.get(accountId);
    if (!a) throw new SandboxInputError(`unknown account ${accountId}`);
    return a;
  }

  all(): SandboxAccount[] {
    return [...this.byId.values()];
  }

  /** Resolves `Authorization: Basic <key>` (the key as-is, never base64). */
  fromAuthorization(header: string | undefined): SandboxAccount | undefined {
    const m = /^Basic (.+)$/.exec(header ?? '');
    return m ? this.byKey.get(m[1]!.trim()) : undefined;
  }

  /**
   * The Tables API's handshake: exactly `Basic base64("<accountName>:<apiKey>")` (no spaces; the account name is
   * the sandbox account's id) of a known account, or undefined.
   */
  fromTablesAuthorization(header: string | undefined): SandboxAccount | undefined {
    const m = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const account = this.byKey.get(decoded.slice(colon + 1));
    // Re-encoding must give the header back exactly (no padding games, no spaces around the colon).
    if (!account || decoded.slice(0, colon) !== account.accountId) return undefined;
    return Buffer.from(`${account.accountId}:${account.apiKey}`, 'utf8').toString('base64') === m[1] ? account : undefined;
  }

  /** PUT /epos/integrations/ws: the body is the full set; capabilities left out stop being routed. */
  register(accountId: string, capabilities: { name: string; version: string }[]): WsIntegration {
    const bad = unknownCapabilities(capabilities.map((c) => c.name));
    if (bad.length) throw new SandboxInputError('unknown capability names', { capabilities: bad.map((b) => `${b} is not a capability name`) });
    const now = new Date().toISOString();
    const prev = this.integrations.get(accountId);
    const seen = new Set<string>();
    const records: CapabilityRecord[] = [];
    for (const c of capabilities) {
      if (seen.has(c.name)) continue;
      seen.add(c.name);
      records.push({ name: c.name, version: c.version, updatedAt: now });
    }
    const integration: WsIntegration = { capabilities: records, createdAt: prev?.createdAt ?? now };
    this.integrations.set(accountId, integration);
    return integration;
  }

  capabilityNames(accountId: string): string[] {
    return (this.integrations.get(accountId)?.capabilities ?? []).map((c) => c.name);
  }

  /** POST /epos/events. */
  recordPosEvent(accountId: string, body: unknown): PosEventRecord {
    const b = body as { eventType?: unknown; event?: unknown };
    if (!b || typeof b !== 'object') throw new SandboxInputError('body must be an object');
    const idField = typeof b.eventType === 'string' ? POS_EVENT_TYPES[b.eventType] : undefined;
    if (!idField) throw new SandboxInputError('invalid eventType', { eventType: [`must be one of ${Object.keys(POS_EVENT_TYPES).join(', ')}`] });
    const ev = b.event as Record<string, unknown> | undefined;
    if (!ev || typeof ev !== 'object' || typeof ev[idField] !== 'string' || !(ev[idField]).length) {
      throw new SandboxInputError(`event.${idField} is required`, { [`event.${idField}`]: ['is required'] });
    }
    const rec: PosEventRecord = { accountId, receivedAt: new Date().toISOString(), eventType: b.eventType as string, event: ev };
    this.posEvents.push(rec);
    if (this.posEvents.length > 100_000) this.posEvents.splice(0, this.posEvents.length - 100_000);
    return rec;
  }

  /** POST /webhooks: a subscription with a generated, active secret. */
  subscribe(accountId: string, body: unknown): WebhookSubscription {
    const b = body as { events?: unknown; url?: unknown; description?: unknown };
    if (!b || !Array.isArray(b.events) || !b.events.every((e) => typeof e === 'string') || b.events.length === 0) {
      throw new SandboxInputError('events must be a non-empty array of strings', { events: ['is required'] });
    }
    let ok: boolean;
    try {
      ok = typeof b.url === 'string' && ['http:', 'https:'].includes(new URL(b.url).protocol);
    } catch {
      ok = false;
    }
    // Dojo requires https; the sandbox also accepts http so local receivers work.
    if (!ok) throw new SandboxInputError('url must be an http(s) URL', { url: ['must be an http(s) URL'] });
    const now = new Date().toISOString();
    const sub: WebhookSubscription = {
      id: randomId('ws_'),
      accountId,
      events: b.events,
      url: b.url as string,
      description: typeof b.description === 'string' ? b.description : null,
      secrets: [{ id: randomId('sc_'), value: randomBytes(16).toString('base64url'), createdAt: now, isActive: true }],
      createdAt: now,
      updatedAt: now,
    };
    const list = this.subscriptions.get(accountId) ?? [];
    list.push(sub);
    this.subscriptions.set(accountId, list);
    return sub;
  }
}

/** SANDBOX_ACCOUNTS: a JSON array, or a path to a file holding one. */
export function parseAccountsSetting(value: string | undefined): SandboxAccount[] {
  if (!value || !value.trim()) return [];
  const text = value.trim().startsWith('[') || value.trim().startsWith('{') ? value : readFileSync(value.trim(), 'utf8');
  const parsed = JSON.parse(text) as unknown;
  const list = Array.isArray(parsed) ? parsed : (parsed as { accounts?: unknown }).accounts;
  if (!Array.isArray(list)) throw new SandboxInputError('SANDBOX_ACCOUNTS must be a JSON array of accounts');
  return list as SandboxAccount[];
}

/** The account a fresh standalone sandbox starts with (matches `npm run flow` defaults). */
export const DEMO_ACCOUNT: SandboxAccount = {
  apiKey: 'sk_sandbox_demo',
  softwareHouseId: 'sh_demo',
  accountId: 'acc_demo',
};
