import { apiKeyAad } from '@app/db';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import { keyEnvironment } from '../location-rules';

/** Replaces a location's Dojo API key (stored encrypted); the gateway reconnects with it at once. */
export class RotateLocationApiKey {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, apiKey: string): Promise<LocationView> {
    const environment = keyEnvironment(apiKey);
    const row = await this.d.locations.update(id, {
      apiKeyCiphertext: new Uint8Array(this.d.secretBox.encrypt(apiKey, apiKeyAad(id))),
      apiKeyLast4: apiKey.slice(-4),
      environment,
      bumpConfigVersion: true,
    });
    if (!row) throw DomainError.notFound('location', id);
    await this.d.publisher.publishChanged(id, row.configVersion);
    // A registration that failed (for instance on the old key) is tried again with the new one.
    if (row.registrationState !== 'registered') await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }
}
