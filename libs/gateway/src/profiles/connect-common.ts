import type { JsonRpcResponse } from '@app/contracts';
import type { DecodedRejection } from './connection-profile';

/** A Connect error code by number to its name in the dialect's table (PAC_ERROR_CODES, PAT_ERROR_CODES): bounded labels for metrics and the request record. */
export function connectCodeNames(codes: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(codes).map(([name, code]) => [code, name]));
}

/**
 * A frame Connect's codec refused (pay at table or at counter, both JSON-RPC 2.0): answered with the codec's error,
 * the trace id in `data`, and the method when the frame had no id (so Connect can tell what was refused).
 */
export function connectRejection(
  refused: { id: string | number | null; method?: string; error: { code: number; message: string } },
  codeNames: ReadonlyMap<number, string>,
): DecodedRejection {
  const { id, error, method } = refused;
  return {
    kind: 'reject',
    id,
    errorType: codeNames.get(error.code) ?? 'error',
    reason: error.message,
    response: (traceId) => ({ jsonrpc: '2.0', id, error: { ...error, data: { traceId, ...(method && id === null ? { method } : {}) } } }) as unknown as JsonRpcResponse,
  };
}
