import type { PrismaClient, SecretBox } from '@app/db';
import type { DojoCredentials } from '@app/dojo-client';
import { DomainError } from '../admin/errors';
import { OutboxRepository } from '../repositories/outbox.repository';
import type { DojoCredentialsSource } from './ports';

/** A location's Dojo credentials read from Postgres, its API key decrypted for the call (never kept or logged). */
export class LocationCredentials implements DojoCredentialsSource {
  private readonly repo: OutboxRepository;

  constructor(
    prisma: PrismaClient,
    private readonly secretBox: SecretBox,
  ) {
    this.repo = new OutboxRepository(prisma);
  }

  async forLocation(locationId: string): Promise<DojoCredentials> {
    const creds = (await this.repo.credentialsOfLocations([locationId], this.secretBox)).get(locationId);
    if (!creds) throw DomainError.notFound('location', locationId);
    if ('noDojoKey' in creds) {
      throw DomainError.conflict(
        `online payments need the location's Dojo API key, and this location speaks ${creds.noDojoKey}, whose secret is not one (switch it to epos-data to take online payments)`,
        { error: 'no_dojo_api_key', protocol: creds.noDojoKey },
      );
    }
    if ('unreadable' in creds) throw creds.unreadable;
    return creds;
  }
}
