import type { EposError, EposMethod, JsonRpcResponse } from '@app/contracts';
import type { LocationConfig } from '../locations/location-config';

/** A request the profile accepted: ready to go to the workers. */
export interface DecodedRequest {
  kind: 'request';
  /** The id exactly as it arrived (echoed in the reply). */
  id: string | number;
  method: EposMethod;
  params: unknown;
}

/** A message the profile refused: answer it at once with this error. */
export interface DecodedRejection {
  kind: 'reject';
  id: string | number | null;
  error: EposError;
}

/** A JSON-RPC batch: one error reply per element (by its id), sent together as one array. */
export interface DecodedBatch {
  kind: 'batch';
  replies: { id: string | number | null; error: EposError }[];
}

export type Decoded = DecodedRequest | DecodedRejection | DecodedBatch;

/**
 * One family of Dojo links (EPOS Data today; legacy Tables API and
 * Paymentsense Connect later). Everything protocol-specific lives here; the
 * link (ownership, keepalive, backoff) and the dispatcher (dedupe, deadline,
 * worker call) are shared by every profile.
 */
export interface ConnectionProfile {
  readonly name: string;
  /** The URL to dial for a location; `defaultUrl` comes from configuration. */
  buildUrl(location: LocationConfig, defaultUrl: string): string;
  /** Handshake headers (authentication etc.). */
  handshakeHeaders(location: LocationConfig): Record<string, string>;
  /** Parses and validates one incoming text frame. */
  decode(text: string, location: LocationConfig): Decoded;
  /** Serialises a reply in the profile's envelope. */
  encode(response: JsonRpcResponse): string;
  /** Best-effort id of a message too large to parse, so its rejection can still be correlated. */
  peekId(head: string): string | number | null;
}
