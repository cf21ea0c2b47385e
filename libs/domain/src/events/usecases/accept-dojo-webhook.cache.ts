import type { Logger } from '@app/common';
import type { SecretBox} from '@app/db';
import { webhookSecretAad } from '@app/db';
import type { WebhookAccountsRepository } from '../../repositories/webhook-accounts.repository';

/** A Dojo account's location and the plain text of its active webhook secrets. */
export interface WebhookAccount {
  locationId: string;
  secrets: string[];
}

export interface WebhookAccountCacheOptions {
  /** How long a looked-up account is trusted (0 = always read). Default 5 s. */
  ttlMs?: number;
  /** Entries kept at most (the oldest go first). Default 10,000. */
  maxEntries?: number;
}

interface Entry {
  account: WebhookAccount;
  at: number;
}

/**
 * Location and decrypted active webhook secrets per Dojo account, read from
 * Postgres and kept for a few seconds, so a burst of webhooks for one venue
 * costs one lookup instead of two per event. Unknown accounts are not cached
 * (a newly onboarded venue is found at once). Callers re-read (`load(…, true)`)
 * before refusing a signature, so a freshly added secret works immediately; a
 * retired secret can still verify until its entry expires (at most ttlMs).
 * `forgetLocation` drops a location's entry at once (location changed or deleted).
 */
export class WebhookAccountCache {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();
  private readonly accountOf = new Map<string, string>();
  private readonly loading = new Map<string, Promise<WebhookAccount | null>>();
  /** Bumped by every forget, so a load that started before it does not store a stale entry. */
  private epoch = 0;

  constructor(
    private readonly repository: WebhookAccountsRepository,
    private readonly secretBox: SecretBox,
    private readonly logger: Logger,
    opts: WebhookAccountCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /**
   * The account's location and active secrets, or null when no location has
   * this account. `fresh` skips the cached entry (and replaces it). Throws when
   * Postgres cannot be read. `traceId`: the delivery's, written on the lines of a read it starts (a delivery that
   * joins a read in flight shares that read's lines, under the first delivery's trace id).
   */
  async load(accountId: string, fresh = false, traceId?: string): Promise<WebhookAccount | null> {
    if (!fresh) {
      const hit = this.entries.get(accountId);
      if (hit && Date.now() - hit.at < this.ttlMs) return hit.account;
      const pending = this.loading.get(accountId);
      if (pending) return pending;
    }
    const p = this.read(accountId, traceId).finally(() => {
      if (this.loading.get(accountId) === p) this.loading.delete(accountId);
    });
    this.loading.set(accountId, p);
    return p;
  }

  /** Drops the cached entry of a location (its account, secrets or existence changed). */
  forgetLocation(locationId: string): void {
    this.epoch++;
    const accountId = this.accountOf.get(locationId);
    if (accountId === undefined) return;
    this.accountOf.delete(locationId);
    this.entries.delete(accountId);
  }

  /** Drops an account's entry. */
  forgetAccount(accountId: string): void {
    this.epoch++;
    this.drop(accountId);
  }

  private drop(accountId: string): void {
    const hit = this.entries.get(accountId);
    if (!hit) return;
    this.entries.delete(accountId);
    this.accountOf.delete(hit.account.locationId);
  }

  private async read(accountId: string, traceId: string | undefined): Promise<WebhookAccount | null> {
    const epoch = this.epoch;
    const startedAt = Date.now();
    const accounts = this.repository;
    const locationId = await accounts.locationIdOfAccount(accountId);
    if (locationId === undefined) {
      // Its own entry only: bumping the epoch here would let deliveries for unknown accounts (junk, probes) keep
      // every concurrent lookup of a real account from being cached.
      this.drop(accountId);
      return null;
    }
    const location = { id: locationId };
    const rows = await accounts.activeSecrets(locationId);
    const secrets: string[] = [];
    for (const row of rows) {
      try {
        secrets.push(this.secretBox.decrypt(row.secretCiphertext, webhookSecretAad(row.id)));
      } catch {
        this.logger.error({ locationId: location.id, accountId, secretId: row.id, ...(traceId !== undefined ? { traceId } : {}) }, 'a webhook secret does not decrypt; it is skipped');
      }
    }
    const account: WebhookAccount = { locationId: location.id, secrets };
    if (this.ttlMs > 0 && epoch === this.epoch) this.store(accountId, account, startedAt);
    return account;
  }

  private store(accountId: string, account: WebhookAccount, at: number): void {
    const old = this.entries.get(accountId);
    if (old) this.accountOf.delete(old.account.locationId);
    this.entries.delete(accountId);
    this.entries.set(accountId, { account, at });
    this.accountOf.set(account.locationId, accountId);
    // Maps keep insertion order: the oldest entries go first.
    for (const [k, v] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
      this.accountOf.delete(v.account.locationId);
    }
  }
}
