import type { SecretBox } from '@app/db';
import type { DojoClient } from '@app/dojo-client';
import type { ConnectionStatus } from '@app/contracts';
import type { CounterTerminalsSnapshot } from '@app/contracts';
import type { CounterRepository } from '../repositories/counter.repository';
import type { LocationsRepository } from '../repositories/locations.repository';
import type { SoftwareHousesRepository } from '../repositories/software-houses.repository';
import type { VenueTokensRepository } from '../repositories/venue-tokens.repository';

/** Publishes LocationChangedMessage so gateways act at once (called after the DB commit). */
export interface LocationChangePublisher {
  publishChanged(locationId: string, configVersion: number): Promise<void>;
  /**
   * Asks the gateway replica holding the location to reset its backoff and dial now; resolves to how many replicas
   * heard it. Rejects with RedisUnavailable when the request could not be passed on.
   */
  requestReconnect(locationId: string): Promise<number>;
}

/** Durably schedules a capability registration (PUT /epos/integrations/ws) for a location. */
export interface RegistrationScheduler {
  schedule(locationId: string, opts?: { now?: boolean }): Promise<void>;
}

/** Reads live connection statuses from the gateways; may throw when unavailable. */
export interface ConnectionStatusReader {
  read(locationIds: string[]): Promise<Map<string, ConnectionStatus>>;
}

/** What the operator view shows of a location's pay-at-counter link: the owning gateway's reads (Redis). */
export interface CounterStatusReader {
  terminals(locationId: string): Promise<CounterTerminalsSnapshot | null>;
  linkState(locationId: string): Promise<{ state: string; since?: string; lastError?: string } | null>;
}

export interface AdminDeps {
  softwareHouses: SoftwareHousesRepository;
  /** Locations with their credentials and webhook secrets. */
  locations: LocationsRepository;
  venueTokens: VenueTokensRepository;
  secretBox: SecretBox;
  dojo: DojoClient;
  publisher: LocationChangePublisher;
  registration: RegistrationScheduler;
  connections: ConnectionStatusReader;
  /** Pay at counter in the location's status (GET /v1/locations/{id}): terminals, link state and the last transactions. */
  counter?: { status: CounterStatusReader; transactions: CounterRepository };
  /** Public URL Dojo should deliver webhooks to (WEBHOOK_PUBLIC_URL), when configured. */
  webhookPublicUrl?: string;
}
