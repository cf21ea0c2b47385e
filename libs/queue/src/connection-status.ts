import type Redis from 'ioredis';

/**
 * OWNED BY the gateway. Live connection state of a location, written by the
 * gateway replica that owns it and read by the admin API.
 */
export type ConnectionState = 'connecting' | 'open' | 'backing_off' | 'auth_failed' | 'disabled' | 'unowned';

export interface ConnectionStatus {
  locationId: string;
  state: ConnectionState;
  /** ISO time the state was entered. */
  since: string;
  replicaId?: string;
  lastPongAt?: string;
  lastError?: string;
  reconnects: number;
  requestsServed: number;
  /** Connection profile serving the location (e.g. "epos-data"). */
  profile?: string;
  /** Fencing token of the owning replica's lease. */
  fence?: number;
  /** locations.config_version the replica is acting on. */
  configVersion?: number;
  /** ISO time of the next connection attempt while backing off or after an auth failure. */
  nextAttemptAt?: string;
  /** HTTP status of the last refused handshake, when there was one. */
  lastHttpStatus?: number;
  /** ISO time this record was written; records expire so a dead replica's locations read as `unowned`. */
  updatedAt?: string;
}

/** Status records outlive their writer by this long unless refreshed (the owner refreshes every few seconds). */
export const CONNECTION_STATUS_TTL_MS = 30_000;

export function connectionStatusKey(prefix: string, locationId: string): string {
  return `${prefix}:gw:status:${locationId}`;
}

/** Writes (or refreshes) a location's status; it expires after ttlMs unless written again. */
export async function writeConnectionStatus(
  redis: Redis,
  prefix: string,
  status: ConnectionStatus,
  ttlMs: number = CONNECTION_STATUS_TTL_MS,
): Promise<void> {
  const record: ConnectionStatus = { ...status, updatedAt: new Date().toISOString() };
  await redis.set(connectionStatusKey(prefix, status.locationId), JSON.stringify(record), 'PX', Math.max(1, Math.round(ttlMs)));
}

/** Statuses for the given locations; a location no replica reports on is `unowned`. */
export async function readConnectionStatuses(redis: Redis, prefix: string, locationIds: string[]): Promise<Map<string, ConnectionStatus>> {
  const out = new Map<string, ConnectionStatus>();
  if (locationIds.length === 0) return out;
  const now = new Date().toISOString();
  const CHUNK = 500;
  for (let i = 0; i < locationIds.length; i += CHUNK) {
    const ids = locationIds.slice(i, i + CHUNK);
    const raws = await redis.mget(...ids.map((id) => connectionStatusKey(prefix, id)));
    ids.forEach((id, j) => {
      const raw = raws[j];
      let status: ConnectionStatus | undefined;
      if (raw) {
        try {
          status = JSON.parse(raw) as ConnectionStatus;
        } catch {
          status = undefined;
        }
      }
      out.set(id, status ?? { locationId: id, state: 'unowned', since: now, reconnects: 0, requestsServed: 0 });
    });
  }
  return out;
}
