import type { Tx } from '../shared/tx';

/** locations (account → location) and webhook_secrets, as the webhook receiver reads them. */
export class WebhookAccountsRepository {
  constructor(private readonly db: Tx) {}

  /** Across locations by Dojo account id (the webhook names only the account): the location's id, if any. */
  async locationIdOfAccount(dojoAccountId: string): Promise<string | undefined> {
    const location = await this.db.location.findUnique({ where: { dojoAccountId }, select: { id: true } });
    return location?.id;
  }

  /** The location's active webhook secrets, encrypted. */
  activeSecrets(locationId: string) {
    return this.db.webhookSecret.findMany({ where: { locationId, state: 'active' }, select: { id: true, secretCiphertext: true } });
  }
}
