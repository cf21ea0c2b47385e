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
}

export function connectionStatusKey(prefix: string, locationId: string): string {
  return `${prefix}:gw:status:${locationId}`;
}

/** PLACEHOLDER SIGNATURE: the gateway work fills these in. */
export async function writeConnectionStatus(_redis: Redis, _prefix: string, _status: ConnectionStatus): Promise<void> {
  throw new Error('not implemented yet');
}

/** Statuses for the given locations; a location no replica reports on is `unowned`. */
export async function readConnectionStatuses(_redis: Redis, _prefix: string, _locationIds: string[]): Promise<Map<string, ConnectionStatus>> {
  throw new Error('not implemented yet');
}
