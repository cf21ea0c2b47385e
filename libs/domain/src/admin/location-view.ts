import type { ConnectionStatus } from '@app/contracts';
import { DomainError } from './errors';
import type { AdminDeps } from './ports';

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
  registrationState: string;
  registrationError: string | null;
  registrationAttempts: number;
  registeredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

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
    wsUrl: l.wsUrl,
    restUrl: l.restUrl,
    currency: l.currency,
    enabled: l.enabled,
    capabilities: l.capabilities,
    configVersion: l.configVersion,
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

/** Select list that never loads the key ciphertext. */
export const LOCATION_SELECT = {
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
  registrationState: true,
  registrationError: true,
  registrationAttempts: true,
  registeredAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

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
export async function requireLocation(d: Pick<AdminDeps, 'prisma'>, locationId: string): Promise<void> {
  const loc = await d.prisma.location.findUnique({ where: { id: locationId }, select: { id: true } });
  if (!loc) throw DomainError.notFound('location', locationId);
}
