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
  /** Redis Stream key of the gateway replica that holds the socket (`<prefix>:replies:<replicaId>`): the worker XADDs its reply there. */
  replyTo: string;
  traceId: string;
  /** The gateway's fencing token for this location when it accepted the request. */
  fence: number;
}

/** What a worker appends to the `replyTo` stream. */
export interface RpcReply {
  jobId: string;
  response: JsonRpcResponse;
}

/** A stored Dojo event to apply (payments, orders, venue feed). */
export interface DojoEventJob {
  eventRowId: string;
}

/** Redis pub/sub channel names used between apps. */
export const Channels = {
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
