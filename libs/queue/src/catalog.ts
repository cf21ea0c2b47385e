import type { CounterSettleJob, DojoEventFacts, EposMethod, JsonRpcResponse, RpcRequest } from '@app/contracts';

/**
 * The queue catalog: every BullMQ queue, its job names and payloads. Producers
 * go through JobEnqueuer (enqueuer.ts), which derives the queue from the job
 * name; consumers are QueueWorker instances (worker-host.ts) run by apps/worker.
 */
export const QueueName = {
  /** Dojo's JSON-RPC requests, from the gateway to the workers. */
  Rpc: 'epos-rpc',
  /** Stored Dojo events (dojo_events rows) to apply. */
  DojoEvents: 'dojo-events',
  /** Capability registrations (PUT /epos/integrations/ws) per location, with attempts and backoff. */
  Registration: 'capability-registration',
  /** Pay at counter: outcomes of terminal transactions read by the gateway, settled once by a worker (CounterSettleJob). */
  Counter: 'counter-settle',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** Job names other than the RPC queue's, whose jobs are named after their JSON-RPC method. */
export const JobName = {
  ApplyDojoEvent: 'apply',
  RegisterCapabilities: 'register',
  SettleCounter: 'settle-counter',
} as const;
export type JobName = EposMethod | (typeof JobName)[keyof typeof JobName];

/** A JSON-RPC request on QueueName.Rpc. */
export interface RpcJob extends RpcRequest {
  /** Key of the Redis Stream of the gateway replica that holds the socket: the worker XADDs its reply there. */
  replyTo: string;
}

/** What every log line about an RPC request carries: its location, method, request id and trace. */
export function rpcLogFields(r: Pick<RpcRequest, 'locationId' | 'method' | 'rpcId' | 'traceId'>) {
  return { locationId: r.locationId, method: r.method, rpcId: r.rpcId, traceId: r.traceId };
}

/** What a worker appends to the `replyTo` stream. */
export interface RpcReply {
  jobId: string;
  response: JsonRpcResponse;
}

/** A stored Dojo event to apply (payments, orders, venue feed). */
export interface DojoEventJob {
  eventRowId: string;
  /** What the row holds of its event (its location, intent and status), when the enqueuer knew it: the apply then need not read it. */
  facts?: DojoEventFacts;
}

/**
 * A job of QueueName.DojoEvents: one stored event (the sweeper's, a replay's, a quiet moment's), or the events one
 * enqueuer flushed together (the webhook's deliveries of a few milliseconds: its lingerMs), so that a burst costs one
 * pass through the queue's scripts (add, fetch, finish) for up to MAX_EVENTS_PER_JOB events instead of one each.
 */
export type DojoEventsPayload = DojoEventJob | { events: DojoEventJob[] };

/** Events one job carries at most. */
export const MAX_EVENTS_PER_JOB = 50;

/** The events a job of QueueName.DojoEvents carries, in the order they were enqueued. */
export function eventsOfJob(data: DojoEventsPayload): DojoEventJob[] {
  return 'events' in data ? data.events : [data];
}

/** A location whose capabilities should be registered with Dojo. */
export interface RegistrationJob {
  locationId: string;
}

/** Payload of each queue. */
export interface QueuePayloads {
  [QueueName.Rpc]: RpcJob;
  [QueueName.DojoEvents]: DojoEventsPayload;
  [QueueName.Registration]: RegistrationJob;
  [QueueName.Counter]: CounterSettleJob;
}

/** The queue a job name belongs to. */
export type QueueOf<N extends JobName> = N extends typeof JobName.ApplyDojoEvent
  ? typeof QueueName.DojoEvents
  : N extends typeof JobName.RegisterCapabilities
    ? typeof QueueName.Registration
    : N extends typeof JobName.SettleCounter
      ? typeof QueueName.Counter
      : typeof QueueName.Rpc;

/** The payload of a job name. */
export type JobData<N extends JobName> = QueuePayloads[QueueOf<N>];

export function queueOf<N extends JobName>(name: N): QueueOf<N> {
  switch (name) {
    case JobName.ApplyDojoEvent:
      return QueueName.DojoEvents as QueueOf<N>;
    case JobName.RegisterCapabilities:
      return QueueName.Registration as QueueOf<N>;
    case JobName.SettleCounter:
      return QueueName.Counter as QueueOf<N>;
    default:
      return QueueName.Rpc as QueueOf<N>;
  }
}

/**
 * Redis Cluster: a command or script may only touch keys of one hash slot, and
 * only the part of a key inside its first `{...}` is hashed. So every key family
 * that is used several keys at a time carries its own hash tag:
 *
 * - each BullMQ queue: prefix `<QUEUE_PREFIX>:{<queue>}` (queuePrefix), since
 *   BullMQ's scripts touch many keys of one queue;
 * - the gateway's leases with their fencing counters (one script takes both, one
 *   renews many leases), `{gw-lease}`;
 * - the connection status records (written and read many at a time), `{gw-status}`;
 * - the per-location request records (written and read in pipelines), `{gw-requests}`.
 *
 * A family therefore lives on one master; the load of each is a few thousand
 * commands a second at most (docs/operations.md). Single-key families (reply
 * streams, membership) need no tag. On a single Redis the tags change nothing.
 */
export function keyFamily(prefix: string, family: 'gw-lease' | 'gw-status' | 'gw-requests'): string {
  return `${prefix}:{${family}}`;
}

/** BullMQ's prefix for a queue: QUEUE_PREFIX plus the queue's own hash tag, so each queue's keys share one slot. */
export function queuePrefix(prefix: string, queue: QueueName): string {
  return `${prefix}:{${queue}}`;
}

/** Redis key holding a location's latest fencing token (INCR on every lease acquisition by a gateway replica). */
export function fenceKey(prefix: string, locationId: string): string {
  return `${keyFamily(prefix, 'gw-lease')}:fence:${locationId}`;
}

/**
 * The channel on which a gateway replica announces each fencing token it takes, as "<locationId> <token>",
 * published by the same script that increments fenceKey (so no token is taken unannounced). The RPC workers keep
 * their copy of the tokens by it (FenceWatch).
 */
export function fenceChannel(prefix: string): string {
  return `${prefix}:gw:fences`;
}
