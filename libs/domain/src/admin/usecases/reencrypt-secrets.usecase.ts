import type { SecretBox } from '@app/db';
import { apiKeyAad, counterTokenAad, webhookSecretAad } from '@app/db';
import type { LocationsRepository } from '../../repositories/locations.repository';

export interface ReencryptReport {
  /** Ciphertexts rewritten under the current key. */
  reencrypted: number;
  /** Already under the current key. */
  current: number;
  /** Changed by someone else between the read and the write (they wrote with the current key). */
  raced: number;
}

/**
 * Key rotation's last step: rewrites every stored secret (each location's Dojo
 * API key or Connect token, webhook secrets and pay-at-counter link token) that is not yet under the current key
 * (EPOS_RELAY_ENCRYPTION_KEY), decrypting it with whichever ring key made it.
 * Location by location, each write a compare-and-set on the old ciphertext, so
 * it can run while the platform serves and be run again at any time. Once it
 * reports nothing left, the old keys can leave EPOS_RELAY_ENCRYPTION_KEYS_OLD.
 */
export class ReencryptSecrets {
  constructor(
    private readonly locations: LocationsRepository,
    private readonly box: SecretBox,
  ) {}

  async execute(pageSize = 200): Promise<ReencryptReport> {
    const report: ReencryptReport = { reencrypted: 0, current: 0, raced: 0 };
    const count = (replaced: boolean) => (replaced ? report.reencrypted++ : report.raced++);
    let after: string | undefined;
    for (;;) {
      const ids = await this.locations.idsAfter(after, pageSize);
      if (ids.length === 0) return report;
      for (const id of ids) {
        const stored = await this.locations.storedSecrets(id);
        if (!stored) continue; // deleted meanwhile
        if (this.box.isCurrent(stored.apiKey)) report.current++;
        else {
          const next = this.box.encrypt(this.box.decrypt(stored.apiKey, apiKeyAad(id)), apiKeyAad(id));
          count(await this.locations.replaceApiKeyCiphertext(id, stored.apiKey, next));
        }
        for (const s of stored.webhookSecrets) {
          if (this.box.isCurrent(s.ciphertext)) report.current++;
          else {
            const next = this.box.encrypt(this.box.decrypt(s.ciphertext, webhookSecretAad(s.id)), webhookSecretAad(s.id));
            count(await this.locations.replaceWebhookSecretCiphertext(id, s.id, s.ciphertext, next));
          }
        }
        const t = stored.counterToken;
        if (t && this.box.isCurrent(t)) report.current++;
        else if (t) count(await this.locations.replaceCounterTokenCiphertext(id, t, this.box.encrypt(this.box.decrypt(t, counterTokenAad(id)), counterTokenAad(id))));
      }
      after = ids[ids.length - 1];
    }
  }
}
