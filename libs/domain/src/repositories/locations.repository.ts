import type { ConnectPacSettings } from '@app/contracts';
import type { Prisma, PrismaClient } from '@app/db';
import type { Tx } from '../shared/tx';
import { runInTransaction } from './unit-of-work';
import { constrained } from './constraint-violation';

export type RegistrationState = 'pending' | 'registered' | 'failed' | 'not_required';
export type WebhookSecretState = 'active' | 'retired';
export type DojoEnvironment = 'sandbox' | 'production';
type Bytes = Uint8Array<ArrayBuffer>;

/** What one registration attempt sent: the capability set, with the location's key (its ciphertext) to its Dojo URL. */
export interface RegistrationSent {
  capabilities: string[];
  apiKeyCiphertext: Bytes;
  restUrl: string | null;
}

/** A location's pay-at-counter link (LocationsRepository.counterLink). */
export interface CounterLinkInfo {
  /** `protocol`: the location speaks connect-pac; `link`: a counter_links row beside its own protocol. */
  via: 'protocol' | 'link';
  settings: ConnectPacSettings;
  /** The location's currency (the default of a counter transaction). */
  currency: string;
  enabled: boolean;
  tokenLast4: string;
  wsUrl: string | null;
}

/** The fields of a location row the admin API shows (never the key, only its last four characters). */
export interface LocationRow {
  id: string;
  softwareHouseId: string;
  name: string;
  dojoAccountId: string;
  apiKeyLast4: string;
  environment: string;
  resellerId: string | null;
  wsUrl: string | null;
  restUrl: string | null;
  currency: string;
  enabled: boolean;
  capabilities: string[];
  configVersion: number;
  /** epos-data | dojo-tables | connect-pat (LOCATION_PROTOCOLS in @app/contracts). */
  protocol: string;
  /** The protocol's non-secret credentials (ProtocolSettingsOf in @app/contracts). */
  protocolSettings: unknown;
  registrationState: string;
  registrationError: string | null;
  registrationAttempts: number;
  registeredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Select list that never loads the key ciphertext. */
const LOCATION_SELECT = {
  id: true,
  softwareHouseId: true,
  name: true,
  dojoAccountId: true,
  apiKeyLast4: true,
  environment: true,
  resellerId: true,
  wsUrl: true,
  restUrl: true,
  currency: true,
  enabled: true,
  capabilities: true,
  configVersion: true,
  protocol: true,
  protocolSettings: true,
  registrationState: true,
  registrationError: true,
  registrationAttempts: true,
  registeredAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** What calling Dojo for a location needs: its encrypted key, URLs and its software house's ids. */
export interface LocationCredentials {
  id: string;
  apiKeyCiphertext: Bytes;
  restUrl: string | null;
  resellerId: string | null;
  capabilities: string[];
  registrationAttempts: number;
  protocol: string;
  softwareHouse: { dojoSoftwareHouseId: string; resellerId: string | null };
}

/** The stored filters of the location list. */
export interface LocationFilter {
  softwareHouseId?: string;
  dojoAccountId?: string;
  enabled?: boolean;
  registrationState?: RegistrationState;
  protocol?: string;
}

export interface NewLocation {
  softwareHouseId: string;
  name: string;
  dojoAccountId: string;
  apiKeyCiphertext: Bytes;
  apiKeyLast4: string;
  environment: DojoEnvironment;
  resellerId: string | null;
  wsUrl: string | null;
  restUrl: string | null;
  currency?: string;
  capabilities: string[];
  registrationState: RegistrationState;
  protocol: string;
  protocolSettings: Prisma.InputJsonValue;
}

/** A change to a location's row; `bumpConfigVersion` increments config_version. */
export interface LocationChange {
  name?: string;
  resellerId?: string | null;
  wsUrl?: string | null;
  restUrl?: string | null;
  currency?: string;
  enabled?: boolean;
  capabilities?: string[];
  apiKeyCiphertext?: Bytes;
  apiKeyLast4?: string;
  environment?: DojoEnvironment;
  protocol?: string;
  protocolSettings?: Prisma.InputJsonValue;
  registrationState?: RegistrationState;
  registrationError?: string | null;
  registrationAttempts?: number;
  bumpConfigVersion?: boolean;
}

/** A webhook secret row (never the secret). */
export interface WebhookSecretRow {
  id: string;
  locationId: string;
  state: string;
  dojoSubscriptionId: string | null;
  createdAt: Date;
  retiredAt: Date | null;
}

const WEBHOOK_SECRET_SELECT = { id: true, locationId: true, state: true, dojoSubscriptionId: true, createdAt: true, retiredAt: true } as const;

/**
 * Locations with their credentials (the encrypted Dojo API key, registration
 * state, webhook signing secrets): the only code that reads or writes
 * locations and webhook_secrets for the admin API. Every method takes the
 * location id first. Unique and foreign-key violations surface as the driver
 * raises them; the use-cases say what they mean.
 */
export class LocationsRepository {
  constructor(private readonly db: Tx) {}

  /** Key rotation: a page of location ids in id order, after `afterId`. */
  async idsAfter(afterId: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.db.location.findMany({ where: afterId ? { id: { gt: afterId } } : {}, orderBy: { id: 'asc' }, take: limit, select: { id: true } });
    return rows.map((r) => r.id);
  }

  /** Key rotation: the stored secrets of one location (its API key and its webhook secrets), ciphertexts as stored. */
  async storedSecrets(locationId: string): Promise<{ apiKey: Bytes; webhookSecrets: { id: string; state: WebhookSecretState; ciphertext: Bytes }[]; counterToken: Bytes | null } | null> {
    const row = await this.db.location.findUnique({ where: { id: locationId }, select: { apiKeyCiphertext: true, counterLink: { select: { tokenCiphertext: true } } } });
    if (!row) return null;
    const secrets = await this.db.webhookSecret.findMany({ where: { locationId }, orderBy: { id: 'asc' }, select: { id: true, state: true, secretCiphertext: true } });
    return {
      apiKey: row.apiKeyCiphertext,
      webhookSecrets: secrets.map((s) => ({ id: s.id, state: s.state, ciphertext: s.secretCiphertext })),
      counterToken: row.counterLink?.tokenCiphertext ?? null,
    };
  }

  /** Key rotation: replaces the counter link's token ciphertext only if it is still `expected`; true when replaced. */
  async replaceCounterTokenCiphertext(locationId: string, expected: Bytes, next: Bytes): Promise<boolean> {
    const { count } = await this.db.counterLink.updateMany({ where: { locationId, tokenCiphertext: { equals: expected } }, data: { tokenCiphertext: next } });
    return count === 1;
  }

  /** Key rotation: replaces a ciphertext only if it is still `expected` (a concurrent key change wins); true when replaced. */
  async replaceApiKeyCiphertext(locationId: string, expected: Bytes, next: Bytes): Promise<boolean> {
    const { count } = await this.db.location.updateMany({ where: { id: locationId, apiKeyCiphertext: { equals: expected } }, data: { apiKeyCiphertext: next } });
    return count === 1;
  }

  async replaceWebhookSecretCiphertext(locationId: string, secretId: string, expected: Bytes, next: Bytes): Promise<boolean> {
    const { count } = await this.db.webhookSecret.updateMany({
      where: { id: secretId, locationId, secretCiphertext: { equals: expected } },
      data: { secretCiphertext: next },
    });
    return count === 1;
  }

  /** Runs fn in one transaction with a repository bound to it (joins the current one when already inside). */
  async transaction<T>(fn: (r: LocationsRepository) => Promise<T>): Promise<T> {
    if (!('$transaction' in this.db)) return fn(this);
    return runInTransaction(this.db as PrismaClient, (tx) => fn(new LocationsRepository(tx)));
  }

  /**
   * The location's pay-at-counter link, if it has one: its own protocol
   * (connect-pac: the location's settings) or a counter_links row beside
   * another protocol. Never the token.
   */
  async counterLink(locationId: string): Promise<CounterLinkInfo | null> {
    const row = await this.db.location.findUnique({
      where: { id: locationId },
      select: {
        protocol: true,
        protocolSettings: true,
        currency: true,
        enabled: true,
        apiKeyLast4: true,
        counterLink: { select: { settings: true, tokenLast4: true, wsUrl: true, enabled: true, updatedAt: true } },
      },
    });
    if (!row) return null;
    if (row.protocol === 'connect-pac') {
      return { via: 'protocol', settings: row.protocolSettings as unknown as ConnectPacSettings, currency: row.currency, enabled: row.enabled, tokenLast4: row.apiKeyLast4, wsUrl: null };
    }
    const l = row.counterLink;
    if (!l) return null;
    return { via: 'link', settings: l.settings as unknown as ConnectPacSettings, currency: row.currency, enabled: row.enabled && l.enabled, tokenLast4: l.tokenLast4, wsUrl: l.wsUrl };
  }

  async exists(locationId: string): Promise<boolean> {
    return (await this.db.location.findUnique({ where: { id: locationId }, select: { id: true } })) !== null;
  }

  async get(locationId: string): Promise<LocationRow | null> {
    return this.db.location.findUnique({ where: { id: locationId }, select: LOCATION_SELECT });
  }

  /**
   * The location as get reads it, its row locked until the transaction ends: for a change whose checks depend on
   * what it read (the key checked by the protocol's rules), so a concurrent change of the protocol or the key waits
   * instead of leaving one protocol's secret under another protocol.
   */
  async getForChange(locationId: string): Promise<LocationRow | null> {
    const locked = await this.db.$queryRaw<unknown[]>`SELECT 1 FROM locations WHERE id = ${locationId}::uuid FOR UPDATE`;
    return locked.length ? this.get(locationId) : null;
  }

  async configVersion(locationId: string): Promise<number | null> {
    const row = await this.db.location.findUnique({ where: { id: locationId }, select: { configVersion: true } });
    return row?.configVersion ?? null;
  }

  /** The protocol the location's card machines speak (epos-data, dojo-tables, ...); null for no such location. */
  async protocol(locationId: string): Promise<string | null> {
    const row = await this.db.location.findUnique({ where: { id: locationId }, select: { protocol: true } });
    return row?.protocol ?? null;
  }

  async enabled(locationId: string): Promise<boolean | null> {
    const row = await this.db.location.findUnique({ where: { id: locationId }, select: { enabled: true } });
    return row?.enabled ?? null;
  }

  /** The encrypted key and what a Dojo call needs besides it. */
  async credentials(locationId: string): Promise<LocationCredentials | null> {
    return this.db.location.findUnique({
      where: { id: locationId },
      select: {
        id: true, apiKeyCiphertext: true, restUrl: true, resellerId: true, capabilities: true, registrationAttempts: true, protocol: true,
        softwareHouse: { select: { dojoSoftwareHouseId: true, resellerId: true } },
      },
    });
  }

  /** Up to `take` locations after the cursor in id order, filtered on stored fields. */
  async page(filter: LocationFilter, cursor: string | undefined, take: number): Promise<LocationRow[]> {
    const where: Prisma.LocationWhereInput = {
      ...(cursor ? { id: { gt: cursor } } : {}),
      ...(filter.softwareHouseId ? { softwareHouseId: filter.softwareHouseId } : {}),
      ...(filter.dojoAccountId ? { dojoAccountId: filter.dojoAccountId } : {}),
      ...(filter.enabled !== undefined ? { enabled: filter.enabled } : {}),
      ...(filter.registrationState ? { registrationState: filter.registrationState } : {}),
      ...(filter.protocol ? { protocol: filter.protocol } : {}),
    };
    return this.db.location.findMany({ where, orderBy: { id: 'asc' }, take, select: LOCATION_SELECT });
  }

  /**
   * Bumps config_version of every location of the software house, whose fields (Dojo's software-house-id, the
   * reseller id) the gateways read with each location; their ids and new versions.
   */
  async bumpConfigVersionOfSoftwareHouse(softwareHouseId: string): Promise<{ id: string; configVersion: number }[]> {
    return this.db.$queryRaw<{ id: string; configVersion: number }[]>`
      UPDATE locations SET config_version = config_version + 1, updated_at = now()
       WHERE software_house_id = ${softwareHouseId}::uuid
      RETURNING id::text AS id, config_version AS "configVersion"`;
  }

  async enabledIdsOfSoftwareHouse(softwareHouseId: string): Promise<string[]> {
    const rows = await this.db.location.findMany({ where: { softwareHouseId, enabled: true }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  async idsInRegistrationState(state: RegistrationState): Promise<string[]> {
    const rows = await this.db.location.findMany({ where: { registrationState: state }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  async create(locationId: string, data: NewLocation): Promise<LocationRow> {
    const { currency, ...rest } = data;
    return constrained(() => this.db.location.create({ data: { id: locationId, ...rest, ...(currency ? { currency } : {}) }, select: LOCATION_SELECT }));
  }

  /** Applies the change; null when there is no such location. */
  async update(locationId: string, change: LocationChange): Promise<LocationRow | null> {
    const { bumpConfigVersion, ...fields } = change;
    const data: Prisma.LocationUpdateInput = { ...fields, ...(bumpConfigVersion ? { configVersion: { increment: 1 } } : {}) };
    return this.db.location.update({ where: { id: locationId }, data, select: LOCATION_SELECT }).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'P2025') return null;
      throw err;
    });
  }

  /** The counter_links row's token ciphertext (to keep it when only settings change), or null without a row. */
  async counterLinkToken(locationId: string): Promise<Bytes | null> {
    const r = await this.db.counterLink.findUnique({ where: { locationId }, select: { tokenCiphertext: true } });
    return r ? (r.tokenCiphertext) : null;
  }

  /** Creates or replaces the location's counter link (call inside transaction() with update(..., bumpConfigVersion)). */
  async saveCounterLink(
    locationId: string,
    data: { settings: ConnectPacSettings; tokenCiphertext: Bytes; tokenLast4: string; wsUrl: string | null; enabled: boolean },
  ): Promise<void> {
    const row = { ...data, settings: data.settings as unknown as Prisma.InputJsonValue };
    await this.db.counterLink.upsert({ where: { locationId }, create: { locationId, ...row }, update: row });
  }

  /** Removes the location's counter link; false when it had none. */
  async deleteCounterLink(locationId: string): Promise<boolean> {
    const r = await this.db.counterLink.deleteMany({ where: { locationId } });
    return r.count === 1;
  }

  async delete(locationId: string): Promise<void> {
    await this.db.location.deleteMany({ where: { id: locationId } });
  }

  /**
   * Records a failed registration attempt (`dead` marks it a dead letter), only if nothing newer happened since it
   * started: the location still has the capability set, key and Dojo URL it sent, and is not registered with them by
   * a success after `attempt.startedAt`. False when it was left alone: an attempt on an outdated set, key or URL (the
   * change that replaced them scheduled its own registration), or one another attempt overtook and whose
   * registration still stands, must not turn a newer success into `failed`. Once a later failure has made the
   * location `pending` again, an overtaken attempt's failure counts like any other.
   */
  async recordRegistrationFailure(
    locationId: string,
    outcome: { state: RegistrationState; error: string; dead: boolean; at: Date },
    attempt: RegistrationSent & { startedAt: Date },
  ): Promise<boolean> {
    const { count } = await this.db.location.updateMany({
      where: {
        ...sentWhere(locationId, attempt),
        OR: [{ registeredAt: null }, { registeredAt: { lt: attempt.startedAt } }, { registrationState: { not: 'registered' } }],
      },
      data: {
        registrationState: outcome.state,
        registrationError: outcome.error,
        registrationAttempts: { increment: 1 },
        ...(outcome.dead ? { registrationDeadAt: outcome.at, registrationDiscardedAt: null, registrationDiscardReason: null } : {}),
      },
    });
    return count > 0;
  }

  /**
   * Records a registration as done if the location still has the capability set, key and Dojo URL that were sent;
   * false when one changed meanwhile: a success with the old key registered the old key's account (with the old URL,
   * the old Dojo), which must not stand for the new one.
   */
  async recordRegistered(locationId: string, sent: RegistrationSent, at: Date): Promise<boolean> {
    const { count } = await this.db.location.updateMany({
      where: sentWhere(locationId, sent),
      data: {
        registrationState: 'registered', registrationError: null, registeredAt: at, registrationAttempts: { increment: 1 },
        registrationDeadAt: null, registrationDiscardedAt: null, registrationDiscardReason: null,
      },
    });
    return count > 0;
  }

  async webhookSecrets(locationId: string): Promise<WebhookSecretRow[]> {
    return this.db.webhookSecret.findMany({ where: { locationId }, orderBy: { createdAt: 'asc' }, select: WEBHOOK_SECRET_SELECT });
  }

  async webhookSecret(locationId: string, secretId: string): Promise<WebhookSecretRow | null> {
    return this.db.webhookSecret.findFirst({ where: { id: secretId, locationId }, select: WEBHOOK_SECRET_SELECT });
  }

  async addWebhookSecret(
    locationId: string,
    data: { id: string; secretCiphertext: Bytes; state: WebhookSecretState; retiredAt: Date | null; dojoSubscriptionId: string | null },
  ): Promise<WebhookSecretRow> {
    return this.db.webhookSecret.create({ data: { locationId, ...data }, select: WEBHOOK_SECRET_SELECT });
  }

  /** Sets a secret's state; false unless it belongs to this location. */
  async setWebhookSecretState(locationId: string, secretId: string, data: { state: WebhookSecretState; retiredAt: Date | null }): Promise<boolean> {
    const { count } = await this.db.webhookSecret.updateMany({ where: { id: secretId, locationId }, data });
    return count > 0;
  }
}

/** The location, while it still has what a registration attempt sent. */
function sentWhere(locationId: string, sent: RegistrationSent): Prisma.LocationWhereInput {
  return { id: locationId, capabilities: { equals: sent.capabilities }, apiKeyCiphertext: { equals: sent.apiKeyCiphertext }, restUrl: sent.restUrl };
}
