import type { ConnectionStatus } from '@app/contracts';
import { redactUrl } from '@app/contracts';
import type { LocationRow } from '../repositories/locations.repository';
import { DomainError } from './errors';
import type { AdminDeps } from './ports';

export type { LocationRow } from '../repositories/locations.repository';

export type ConnectionView = ConnectionStatus | { state: 'unknown'; reason: string };

/** A location as the admin API shows it: the row's fields, with registration grouped and times as ISO 8601 strings. */
export interface LocationView
  extends Omit<LocationRow, 'registrationState' | 'registrationError' | 'registrationAttempts' | 'registeredAt' | 'createdAt' | 'updatedAt'> {
  registration: { state: string; error: string | null; attempts: number; registeredAt: string | null };
  connection?: ConnectionView;
  createdAt: string;
  updatedAt: string;
}

export function toLocationView(l: LocationRow, connection?: ConnectionView): LocationView {
  return {
    id: l.id,
    softwareHouseId: l.softwareHouseId,
    name: l.name,
    dojoAccountId: l.dojoAccountId,
    apiKeyLast4: l.apiKeyLast4,
    environment: l.environment,
    resellerId: l.resellerId,
    // A URL may carry a secret (a token in its query, a password before its host): shown redacted, like every URL
    // the platform shows.
    wsUrl: l.wsUrl === null ? null : redactUrl(l.wsUrl),
    restUrl: l.restUrl === null ? null : redactUrl(l.restUrl),
    currency: l.currency,
    enabled: l.enabled,
    capabilities: l.capabilities,
    configVersion: l.configVersion,
    protocol: l.protocol,
    protocolSettings: l.protocolSettings,
    registration: {
      state: l.registrationState,
      error: l.registrationError,
      attempts: l.registrationAttempts,
      registeredAt: l.registeredAt?.toISOString() ?? null,
    },
    ...(connection ? { connection } : {}),
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
  };
}

/** Connection states of these locations as the gateways report them; unknown (with a reason) when they cannot say. */
export async function connectionsFor(d: AdminDeps, ids: string[]): Promise<Map<string, ConnectionView>> {
  const out = new Map<string, ConnectionView>();
  if (ids.length === 0) return out;
  try {
    const statuses = await d.connections.read(ids);
    for (const id of ids) out.set(id, statuses.get(id) ?? { state: 'unknown', reason: 'no gateway reported on this location' });
  } catch {
    for (const id of ids) out.set(id, { state: 'unknown', reason: 'connection status is not available' });
  }
  return out;
}

/** Throws NotFound unless the location exists. */
export async function requireLocation(d: Pick<AdminDeps, 'locations'>, locationId: string): Promise<void> {
  if (!(await d.locations.exists(locationId))) throw DomainError.notFound('location', locationId);
}
