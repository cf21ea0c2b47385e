import { apiKeyAad } from '@app/db';
import { DojoApiError } from '@app/dojo-client';
import { deadLetterErrorText } from '../../dead-letters/error-text';
import type { AdminDeps } from '../ports';
import { registersCapabilities } from '../location-rules';

export type RegistrationOutcome =
  | { outcome: 'registered'; capabilities: string[] }
  | { outcome: 'gone' }
  /** Dojo refused for good (4xx other than 408/429): retrying the same request will not help. */
  | { outcome: 'refused'; error: string; dead: true; attempts: number }
  /** Worth another attempt later (network, timeout, 429, 5xx, or the set, key or URL changed meanwhile); `dead` on the last attempt. */
  | { outcome: 'retry'; error: string; dead?: boolean; attempts?: number }
  /**
   * Failed, but something newer happened meanwhile (the set, key or URL changed, or another attempt registered them and
   * the location is still registered): the failure is not recorded and this attempt stops. Whatever changed has its
   * own registration, or is registered.
   */
  | { outcome: 'superseded'; error: string };

/**
 * One attempt at PUT /epos/integrations/ws with the location's full capability
 * set, recording the outcome on the location (registration_state/error/attempts,
 * registered_at). The caller (a durable job) retries with backoff on `retry`
 * and passes `finalAttempt` on its last try so the state becomes `failed`.
 *
 * A registration that ends `failed` (refused, or its last attempt failed) is a
 * dead letter: registration_dead_at is set, and nothing retries it (the
 * worker's sweep only schedules `pending` locations) until an operator replays
 * it (POST /v1/dead-letters/registration:<id>/replay), re-syncs it or changes
 * its capabilities (or rotates its key).
 */
export class RegisterCapabilities {
  constructor(private readonly d: Pick<AdminDeps, 'locations' | 'secretBox' | 'dojo'>) {}

  async execute(locationId: string, opts: { finalAttempt: boolean }): Promise<RegistrationOutcome> {
    const loc = await this.d.locations.credentials(locationId);
    if (!loc) return { outcome: 'gone' };
    // A location switched to a protocol without registration after this job was scheduled: nothing to do.
    if (!registersCapabilities(loc.protocol)) return { outcome: 'gone' };
    const capabilities = [...loc.capabilities];
    const sent = { capabilities, apiKeyCiphertext: loc.apiKeyCiphertext, restUrl: loc.restUrl };
    const startedAt = new Date();
    try {
      const apiKey = this.d.secretBox.decrypt(loc.apiKeyCiphertext, apiKeyAad(loc.id));
      await this.d.dojo.registerWsCapabilities(
        {
          apiKey,
          baseUrl: loc.restUrl,
          softwareHouseId: loc.softwareHouse.dojoSoftwareHouseId,
          resellerId: loc.resellerId ?? loc.softwareHouse.resellerId,
        },
        capabilities,
      );
    } catch (err) {
      const refused = err instanceof DojoApiError && !err.retryable;
      const message = deadLetterErrorText(err instanceof DojoApiError ? err.message : `registration failed: ${(err as Error).message}`);
      const attempts = loc.registrationAttempts + 1;
      const dead = refused || opts.finalAttempt;
      const recorded = await this.d.locations.recordRegistrationFailure(
        locationId,
        { state: dead ? 'failed' : 'pending', error: message, dead, at: new Date() },
        { ...sent, startedAt },
      );
      if (!recorded) return { outcome: 'superseded', error: message };
      return refused ? { outcome: 'refused', error: message, dead: true, attempts } : { outcome: 'retry', error: message, dead, attempts };
    }
    // Only the set, key and URL that were sent count as registered: if one changed during the call, go again.
    if (!(await this.d.locations.recordRegistered(locationId, sent, new Date()))) {
      return { outcome: 'retry', error: 'the capability set, key or Dojo URL changed during registration' };
    }
    return { outcome: 'registered', capabilities };
  }
}
