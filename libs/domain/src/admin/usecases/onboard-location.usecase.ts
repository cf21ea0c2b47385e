import { randomUUID } from 'node:crypto';
import { apiKeyAad } from '@app/db';
import { DomainError, isForeignKeyViolation, isUniqueViolation } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import type { ConnectPacSettings, ConnectPatSettings, DojoTablesSettings, LocationProtocol } from '@app/contracts';
import { checkProtocolCredentials, locationUrlProblems, normaliseCapabilities, registersCapabilities } from '../location-rules';
import type { LocationRow } from '../../repositories/locations.repository';

export interface OnboardLocationInput {
  name: string;
  softwareHouseId: string;
  dojoAccountId: string;
  apiKey: string;
  resellerId?: string | null;
  wsUrl?: string | null;
  restUrl?: string | null;
  currency?: string;
  /** Capability names to register; every capability the platform serves when omitted. */
  capabilities?: string[];
  /** epos-data when omitted. */
  protocol?: LocationProtocol;
  dojoTables?: Partial<DojoTablesSettings> | null;
  connectPat?: Partial<ConnectPatSettings> | null;
  connectPac?: Partial<ConnectPacSettings> | null;
}

/**
 * Onboards one venue in its protocol: stores it with its secret (API key or
 * token) encrypted, then announces it and, for epos-data, schedules the
 * capability registration (the other protocols have none). Its URLs may carry
 * no credentials, and a production venue's must use TLS (locationUrlProblems).
 */
export class OnboardLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(input: OnboardLocationInput): Promise<LocationView> {
    const row = await this.store(input);
    await this.announce(row);
    return toLocationView(row);
  }

  /** Checks and stores the venue (its own commit); nothing is announced yet. */
  async store(input: OnboardLocationInput): Promise<LocationRow> {
    const { protocol, settings, environment } = checkProtocolCredentials(input);
    // No credentials in a URL (stored in clear), and TLS for a production secret.
    const urlErrors = locationUrlProblems({ wsUrl: input.wsUrl, restUrl: input.restUrl }, environment);
    if (urlErrors.length) throw DomainError.invalid(urlErrors);
    const capabilities = normaliseCapabilities(input.capabilities);
    // The id is minted first: the ciphertext's associated data binds the key to this location.
    const id = randomUUID();
    let row;
    try {
      row = await this.d.locations.create(id, {
        softwareHouseId: input.softwareHouseId,
        name: input.name,
        dojoAccountId: input.dojoAccountId,
        apiKeyCiphertext: new Uint8Array(this.d.secretBox.encrypt(input.apiKey, apiKeyAad(id))),
        apiKeyLast4: input.apiKey.slice(-4),
        environment,
        resellerId: input.resellerId ?? null,
        wsUrl: input.wsUrl ?? null,
        restUrl: input.restUrl ?? null,
        ...(input.currency ? { currency: input.currency } : {}),
        capabilities,
        protocol,
        protocolSettings: settings as Record<string, string | boolean | number>,
        registrationState: registersCapabilities(protocol) ? 'pending' : 'not_required',
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict(`a location with dojoAccountId ${JSON.stringify(input.dojoAccountId)} exists`);
      if (isForeignKeyViolation(err)) throw DomainError.invalid([{ field: 'softwareHouseId', reason: 'no such software house' }]);
      throw err;
    }
    return row;
  }

  /**
   * After the commit: tells the gateways (they also find the venue by their periodic re-read, GATEWAY_RESYNC_MS) and,
   * for epos-data, schedules the capability registration (a schedule that cannot reach Redis leaves the venue
   * `pending`, which the worker's sweep schedules again).
   */
  async announce(row: LocationRow): Promise<void> {
    // Side by side: each waits for Redis on its own, so an outage costs the longer of the two waits, not their sum.
    await Promise.all([
      this.d.publisher.publishChanged(row.id, row.configVersion),
      registersCapabilities(row.protocol) ? this.d.registration.schedule(row.id) : undefined,
    ]);
  }
}
