import type { SecretBox } from '@app/db';
import { apiKeyAad, counterTokenAad, webhookSecretAad } from '@app/db';
import type { LocationsRepository, WebhookSecretState } from '../../repositories/locations.repository';

/** Which stored secret: a location's API key (or its protocol's token), one of its webhook secrets, its counter link's token. */
export type StoredSecretKind = 'api-key' | 'webhook-secret' | 'counter-token';

/** A stored secret that no key of the ring decrypts. Names it, never holds it. */
export interface UnreadableSecret {
  locationId: string;
  kind: StoredSecretKind;
  /** The webhook secret's id (webhook secrets only). */
  secretId?: string;
  /** The webhook secret's state (webhook secrets only): a retired one verifies nothing. */
  state?: WebhookSecretState;
  /** Why it does not decrypt (the key ring's words: a key not in the ring, or no key of it authenticates it). */
  reason: string;
}

export interface ReencryptReport {
  /** Ciphertexts rewritten under the current key. */
  reencrypted: number;
  /** Already under the current key. */
  current: number;
  /** Changed by someone else between the read and the write (they wrote with the current key). */
  raced: number;
  /** Left as they are: no key of the ring decrypts them. */
  unreadable: UnreadableSecret[];
}

/**
 * Key rotation's last step: rewrites every stored secret (each location's Dojo
 * API key or Connect token, webhook secrets and pay-at-counter link token) that is not yet under the current key
 * (EPOS_RELAY_ENCRYPTION_KEY), decrypting it with whichever ring key made it.
 * Location by location, each write a compare-and-set on the old ciphertext, so
 * it can run while the platform serves and be run again at any time. A secret
 * no key of the ring decrypts is left as it is and reported (location, kind, id),
 * and the run goes on. Once it reports nothing left to rewrite, the old keys can
 * leave EPOS_RELAY_ENCRYPTION_KEYS_OLD.
 */
export class ReencryptSecrets {
  constructor(
    private readonly locations: LocationsRepository,
    private readonly box: SecretBox,
  ) {}

  async execute(pageSize = 200): Promise<ReencryptReport> {
    const report: ReencryptReport = { reencrypted: 0, current: 0, raced: 0, unreadable: [] };
    /** Rewrites one ciphertext under the current key through `replace` (a compare-and-set), unless current or unreadable. */
    const rewrite = async (stored: Uint8Array, aad: string, which: Omit<UnreadableSecret, 'reason'>, replace: (next: Uint8Array<ArrayBuffer>) => Promise<boolean>) => {
      if (this.box.isCurrent(stored)) {
        report.current++;
        return;
      }
      let plain: string;
      try {
        plain = this.box.decrypt(stored, aad);
      } catch (err) {
        report.unreadable.push({ ...which, reason: (err as Error).message });
        return;
      }
      if (await replace(this.box.encrypt(plain, aad))) report.reencrypted++;
      else report.raced++;
    };
    let after: string | undefined;
    for (;;) {
      const ids = await this.locations.idsAfter(after, pageSize);
      if (ids.length === 0) return report;
      for (const id of ids) {
        const stored = await this.locations.storedSecrets(id);
        if (!stored) continue; // deleted meanwhile
        await rewrite(stored.apiKey, apiKeyAad(id), { locationId: id, kind: 'api-key' }, (next) => this.locations.replaceApiKeyCiphertext(id, stored.apiKey, next));
        for (const s of stored.webhookSecrets) {
          await rewrite(s.ciphertext, webhookSecretAad(s.id), { locationId: id, kind: 'webhook-secret', secretId: s.id, state: s.state }, (next) =>
            this.locations.replaceWebhookSecretCiphertext(id, s.id, s.ciphertext, next),
          );
        }
        const t = stored.counterToken;
        if (t) await rewrite(t, counterTokenAad(id), { locationId: id, kind: 'counter-token' }, (next) => this.locations.replaceCounterTokenCiphertext(id, t, next));
      }
      after = ids[ids.length - 1];
    }
  }
}
