import type { EposMethod } from './methods';
import type { JsonRpcResponse } from './jsonrpc';

/** BullMQ queue names. One queue carries every EPOS Data API request; events have their own. */
export const QueueName = {
  Rpc: 'epos-rpc',
  DojoEvents: 'dojo-events',
  Outbox: 'pos-outbox',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** A JSON-RPC request from Dojo, as the gateway hands it to a worker. */
export interface RpcJob {
  /** Location (our id) whose socket received the request. */
  locationId: string;
  method: EposMethod;
  rpcId: string;
  params: unknown;
  /** Epoch ms after which the answer is useless: the job must not commit past it. */
  deadline: number;
  /** Redis pub/sub channel of the gateway replica that holds the socket. */
  replyTo: string;
  traceId: string;
  /** The gateway's fencing token for this location when it accepted the request. */
  fence: number;
}

/** What a worker publishes on `replyTo`. */
export interface RpcReply {
  jobId: string;
  response: JsonRpcResponse;
}

/** A stored Dojo event to apply (payments, orders, venue feed). */
export interface DojoEventJob {
  eventRowId: string;
}

/** An outbox row to deliver to Dojo's POST /epos/events. */
export interface OutboxJob {
  locationId: string;
}

export function rpcJobId(locationId: string, rpcId: string): string {
  // BullMQ job ids may not contain ':'; the id also de-duplicates retries of the same request.
  return `${locationId}.${Buffer.from(rpcId).toString('base64url')}`;
}

/** Redis channel names used between apps. */
export const Channels = {
  /** Replies addressed to one gateway replica. */
  reply: (replicaId: string) => `epos-relay:reply:${replicaId}`,
  /** Location changes (enable, disable, key rotation, capabilities): the gateways react at once. */
  locationChanged: 'epos-relay:location-changed',
  /** An operator asks for a location's link to be re-dialled now; only the replica holding it acts. */
  locationReconnect: 'epos-relay:location-reconnect',
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
