import type { Tx } from '../shared/tx';

/** locations (account → location) and webhook_secrets, as the webhook receiver reads them. */
export class WebhookAccountsRepository {
  constructor(private readonly db: Tx) {}

  /** Across locations by Dojo account id (the webhook names only the account): the location's id, if any. */
  async locationIdOfAccount(dojoAccountId: string): Promise<string | undefined> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM locations WHERE dojo_account_id = ${dojoAccountId}`;
    return rows[0]?.id;
  }

  /** The location's active webhook secrets, encrypted. */
  activeSecrets(locationId: string): Promise<{ id: string; secretCiphertext: Uint8Array }[]> {
    return this.db.$queryRaw<{ id: string; secretCiphertext: Uint8Array }[]>`
      SELECT id::text AS id, secret_ciphertext AS "secretCiphertext" FROM webhook_secrets
       WHERE location_id = ${locationId}::uuid AND state = 'active'`;
  }
}
