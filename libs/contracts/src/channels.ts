
/**
 * A JSON-RPC request from Dojo as the gateway hands it over to be answered,
 * whatever carries it (the BullMQ job in libs/queue adds the reply address;
 * the in-process caller passes it as is).
 */
export interface RpcRequest {
  /** Location (our id) whose socket received the request. */
  locationId: string;
  /**
   * The wire dialect the request came in (epos-data, dojo-tables, ...): the
   * worker answers it with that dialect, and request ids are unique per dialect.
   * Absent means epos-data (jobs queued before dialects existed).
   */
  dialect?: string;
  /** The dialect's method name (an EposMethod for epos-data). */
  method: string;
  /** Whether the method changes state (stored answer per id, claimed at the deadline); METHOD_INFO's when absent. */
  mutates?: boolean;
  /** The location's protocol settings the dialect reads (never a secret; e.g. enforceWaiterId); absent when none. */
  settings?: Record<string, unknown>;
  rpcId: string;
  params: unknown;
  /** Epoch ms after which the answer is useless: the job must not commit past it. */
  deadline: number;
  traceId: string;
  /**
   * The gateway's fencing token for this location when it accepted the request.
   * The worker answers a request whose token is older than the location's current
   * one with an error, without running it: the replica that sent it lost its lease.
   */
  fence: number;
}

/**
 * Redis pub/sub channels used between apps, named under the deployment's QUEUE_PREFIX as its keys are, so deployments
 * that share one Redis do not hear each other (the default prefix, `epos-relay`, gives the names of old).
 */
export const Channels = {
  /** Location changes (enable, disable, key rotation, capabilities): the gateways react at once. */
  locationChanged: (prefix: string) => `${prefix}:location-changed`,
  /** An operator asks for a location's link to be re-dialled now; only the replica holding it acts. */
  locationReconnect: (prefix: string) => `${prefix}:location-reconnect`,
} as const;

export interface LocationChangedMessage {
  locationId: string;
  configVersion: number;
}

/** On Channels.locationReconnect: reset the location's backoff and dial again now. */
export interface LocationReconnectMessage {
  locationId: string;
  /** ISO time of the operator's request. */
  requestedAt: string;
}

/** Live connection state of a location, written by the gateway replica that owns it and read by the admin API. */
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
  /**
   * Why the last socket (or dial) ended: `replaced` when the far end said a newer connection of the site took
   * over (Connect PAT's last-connection-wins, "Connection Discontinued"), `auth` for a refused handshake,
   * `network` for anything else (a drop, a dead link, a close by the far end).
   */
  lastDisconnect?: 'replaced' | 'auth' | 'network';
  /** ISO time this record was written; records expire so a dead replica's locations read as `unowned`. */
  updatedAt?: string;
  /**
   * The location's pay-at-counter link (Connect PAC) when it runs beside the location's own link (counter_links);
   * a location whose protocol is connect-pac has no such field: its own status is the PAC link's (profile connect-pac).
   */
  counter?: CounterLinkStatus;
}

/** The state of a PAC link held beside a location's main link (same lease, same fence). */
export interface CounterLinkStatus {
  state: ConnectionState;
  since: string;
  lastError?: string;
  lastDisconnect?: 'replaced' | 'auth' | 'network';
  reconnects: number;
  nextAttemptAt?: string;
  lastHttpStatus?: number;
}
