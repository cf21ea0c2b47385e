import type { JsonRpcResponse } from '@app/contracts';
import type { LocationConfig } from '../locations/location-config';

/**
 * The request path's internal envelope is JSON-RPC shaped whatever the wire
 * is: the worker's dialect answers `{jsonrpc, id, result}` (or `error`), and a
 * profile whose wire is something else turns that into its own frame in
 * `encode`. So the queue, the reply stream, the de-duplication and
 * processed_requests never need to know the wire.
 */
export type InternalResponse = JsonRpcResponse;

/** A request the profile accepted: ready to go to the workers. */
export interface DecodedRequest {
  kind: 'request';
  /** The id exactly as it arrived (echoed in the reply). */
  id: string | number;
  /** The dialect's method name as the worker's method table knows it. */
  method: string;
  params: unknown;
  /**
   * Dispatched only once the location's previous ordered request was answered, so the workers apply them in the
   * order they arrived (Connect PAC's terminal notifications: the POS sees a terminal's progress in order; every
   * Connect PAT message: a receipt or an unlock right after a payment sees the payment recorded).
   */
  ordered?: boolean;
  /**
   * Dispatched only once the location's previous request with the same key was answered; requests with other keys
   * (or none) go on at once. The Tables API's requests about one session carry its id, so a payment is recorded
   * before the unlock or the bill read that Dojo sends after it, even when those come before the payment's answer
   * (protocols.md, Part 1: "serialise per sessionId").
   */
  orderedBy?: string;
}

/** A message the profile refused: answer it at once with `response`. */
export interface DecodedRejection {
  kind: 'reject';
  id: string | number | null;
  /** For logs and metrics (EPOS Data's errorType, the Tables API's errorCode, ...). */
  errorType: string;
  reason: string;
  response(traceId: string): InternalResponse;
}

/** Several answers to one frame, sent together as one array (a JSON-RPC batch, refused element by element). */
export interface DecodedBatch {
  kind: 'batch';
  errorType: string;
  replies: { id: string | number | null; response(traceId: string): InternalResponse }[];
}

/** A message that is never answered (the Tables API's ErrorNotification): logged with `fields`. */
export interface DecodedIgnored {
  kind: 'ignore';
  /** Logged at warn with the location and trace id. */
  message: string;
  fields: Record<string, unknown>;
}

/**
 * The far end's reply to a request this side sent (Connect PAC: the EPOS sends sale, refund, ... and Connect replies,
 * in any order, matched by id). Handed to the dispatch context's `onReply` (the counter pump), never to the workers.
 */
export interface DecodedReply {
  kind: 'reply';
  id: string | number;
  /** The result, not yet checked against the request's schema. */
  result?: unknown;
  /** An error reply: the far end refused the request. */
  error?: { code: number; message: string };
}

export type Decoded = DecodedRequest | DecodedRejection | DecodedBatch | DecodedIgnored | DecodedReply;

/** Errors the gateway answers by itself, in the profile's own error form. */
export type GatewayFailure = 'oversize' | 'draining' | 'unexpected' | 'deadline' | 'unavailable';

/**
 * One protocol's transport seam (a "codec" plus how to dial): EPOS Data, the
 * legacy Tables API, Paymentsense Connect PAT. Everything protocol-specific
 * in the gateway lives in a profile: the URL and handshake headers, parsing
 * a frame into requests to dispatch / replies to send at once / messages to
 * ignore, each method's deadline and whether it changes state, the profile's
 * own errors, and the wire form of the worker's answer. The link (ownership,
 * ping/pong keepalive, backoff) and the dispatcher (dedupe, deadline, worker
 * call with `dialect` in the job) are shared by every profile.
 * See docs/architecture.md "Adding a protocol".
 */
export interface ConnectionProfile {
  /** The protocol (locations.protocol), also the metrics label. */
  readonly name: string;
  /** The worker's dialect that answers this profile's requests (RpcJob.dialect; Dialect.name in @app/domain). */
  readonly dialect: string;
  /** The URL to dial for a location; `defaultUrl` is the gateway's configured EPOS Data URL (other profiles use their own defaults). */
  buildUrl(location: LocationConfig, defaultUrl: string): string;
  /** Handshake headers (authentication etc.). */
  handshakeHeaders(location: LocationConfig): Record<string, string>;
  /** Parses and validates one incoming text frame. */
  decode(text: string, location: LocationConfig): Decoded;
  /**
   * Serialises the worker's (or the gateway's) answer as the wire frame, with the request's id exactly as it arrived;
   * undefined when nothing is to be sent (Connect PAT: the success of a message that came without an id).
   */
  encode(response: InternalResponse, id: string | number | null): string | undefined;
  /** Best-effort id of a message too large to parse, so its rejection can still be correlated. */
  peekId(head: string): string | number | null;
  /** How long the worker has to answer `method` (ms). */
  deadlineMs(method: string): number;
  /** Whether `method` changes state (its answer is stored once per id; the gateway claims it at the deadline). */
  mutates(method: string): boolean;
  /**
   * Whether `method` only reads the EPOS's state: no change, no effect, no wait on anything but Postgres. Such a
   * request may be answered by the gateway replica itself (GATEWAY_READS=local) instead of a worker.
   */
  readsOnly(method: string): boolean;
  /** The profile's error for a failure of the gateway itself (nothing was applied). */
  failure(id: string | number | null, kind: GatewayFailure, message: string, traceId: string): InternalResponse;
  /** The error type of an answer (undefined for success), and whether it is a platform failure that must not be remembered for the id. */
  outcome(response: InternalResponse): { errorType?: string; platformFailure: boolean };
  /**
   * Optional: whether the far end ended the location's socket because a newer connection of the same site took over
   * (Connect PAT), judged from what it sent before closing and the close reason; asked once per close.
   */
  takeReplaced?(locationId: string, closeReason: string): boolean;
}
