/** JSON-RPC 2.0 envelopes as Dojo's EPOS Data API uses them over the WebSocket. */

export type JsonRpcId = string;

/** Dojo's EPOSError fields plus JSON-RPC 2.0's code/message, so both kinds of client are satisfied. */
export interface JsonRpcErrorBody {
  code: number;
  message: string;
  errorType: EposErrorType;
  debugMessage: string;
  traceId: string;
}

export interface JsonRpcSuccess<R = unknown> {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result: R;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorBody;
}

export type JsonRpcResponse<R = unknown> = JsonRpcSuccess<R> | JsonRpcFailure;

export type EposErrorType = 'NotFound' | 'UnexpectedError' | 'InvalidRequest' | 'Conflict';

/** Standard JSON-RPC 2.0 codes, plus implementation-defined server codes for Dojo's error types. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  NotFound: -32004,
  Conflict: -32009,
  Timeout: -32008,
} as const;

export function isFailure(r: JsonRpcResponse): r is JsonRpcFailure {
  return (r as JsonRpcFailure).error !== undefined;
}

export function success<R>(id: JsonRpcId | null, result: R): JsonRpcSuccess<R> {
  return { jsonrpc: '2.0', id, result };
}

export function failure(id: JsonRpcId | null, error: JsonRpcErrorBody): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error };
}

/**
 * Best-effort `id` of a JSON message too large (or too broken) to parse, read
 * from its first bytes: a string id (JSON-unescaped) or an integer id, else
 * null. Every dialect's frames carry their id as `"id"`, so each uses this.
 */
export function peekJsonId(head: string): string | number | null {
  const m = /"id"\s*:\s*(?:"((?:[^"\\]|\\.){1,200})"|(-?\d{1,16}))/.exec(head);
  if (!m) return null;
  if (m[1] !== undefined) {
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return null;
    }
  }
  return Number(m[2]);
}
