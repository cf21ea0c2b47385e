import type { ContractValidator, JsonRpcResponse } from '@app/contracts';
import {
  peekJsonId,
  badString,
  checkInputValues,
  contractValidator,
  EposError,
  failure,
  isEposMethod,
  isFailure,
  JsonRpcCode,
  METHOD_INFO,
  methodEnabled,
} from '@app/contracts';
import type { LocationConfig } from '../locations/location-config';
import type { ConnectionProfile, Decoded, DecodedRejection, GatewayFailure } from './connection-profile';

export const EPOS_DATA_PROFILE = 'epos-data';
export const DEFAULT_EPOS_DATA_URL = 'wss://eu.ws.dojo.tech/epos';

const invalidRequest = (msg: string) => new EposError('InvalidRequest', msg, JsonRpcCode.InvalidRequest, 'Invalid Request');
const methodNotFound = (msg: string) => new EposError('InvalidRequest', msg, JsonRpcCode.MethodNotFound, 'Method not found');

/** A rejection answered with an EPOS Data error. */
function reject(id: string | number | null, error: EposError): DecodedRejection {
  return { kind: 'reject', id, errorType: error.errorType, reason: error.debugMessage, response: (traceId) => failure(id as string | null, error.toBody(traceId)) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function usableId(id: unknown): id is string | number {
  return (typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id));
}

/** Longest id accepted (it is stored, and indexed, with the answer). */
const MAX_ID_LENGTH = 256;
/** Largest batch answered element by element; a larger one gets one error. */
const MAX_BATCH = 100;

/** Why a usable id is still refused, or undefined. */
function badId(id: string | number): string | undefined {
  if (typeof id === 'number') return Number.isSafeInteger(id) || !Number.isInteger(id) ? undefined : 'id is out of range';
  const why = badString(id, MAX_ID_LENGTH);
  return why && `id ${why}`;
}

/**
 * Dojo's EPOS Data API over WebSocket: `Authorization: Basic <raw api key>`
 * (not base64), `software-house-id`, optional `reseller-id`; JSON-RPC 2.0
 * requests validated against the AsyncAPI contract; errors in `error` with both
 * Dojo's (errorType, debugMessage, traceId) and JSON-RPC's (code, message) fields.
 */
export class EposDataProfile implements ConnectionProfile {
  readonly name = EPOS_DATA_PROFILE;

  constructor(private readonly validator: ContractValidator = contractValidator()) {}

  buildUrl(location: LocationConfig, defaultUrl: string): string {
    return location.wsUrl ?? defaultUrl ?? DEFAULT_EPOS_DATA_URL;
  }

  handshakeHeaders(location: LocationConfig): Record<string, string> {
    const headers: Record<string, string> = {
      Authorization: `Basic ${location.apiKey ?? ''}`,
      'software-house-id': location.softwareHouseId,
    };
    if (location.resellerId) headers['reseller-id'] = location.resellerId;
    return headers;
  }

  decode(text: string, location: LocationConfig): Decoded {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return reject(null, new EposError('InvalidRequest', 'the message is not valid JSON', JsonRpcCode.ParseError, 'Parse error'));
    }
    if (Array.isArray(msg)) return this.batch(msg);
    if (!isRecord(msg)) return reject(null, invalidRequest('a JSON-RPC request must be a JSON object'));
    const id = usableId(msg.id) ? msg.id : null;
    if (id === null) return reject(null, invalidRequest('id is required (a non-empty string)'));
    const idWrong = badId(id);
    if (idWrong) return reject(id, invalidRequest(idWrong));
    if (typeof msg.method !== 'string' || msg.method.length === 0) {
      return reject(id, invalidRequest('method is required (a non-empty string)'));
    }
    if (msg.jsonrpc !== '2.0') return reject(id, invalidRequest('jsonrpc must be "2.0"'));
    const method = msg.method;
    if (!isEposMethod(method)) {
      return reject(id, methodNotFound(`method ${JSON.stringify(method).slice(0, 100)} is not served by this EPOS`));
    }
    if (!methodEnabled(method, location.capabilities)) {
      return reject(id, methodNotFound(`method ${method} is not enabled for this location`));
    }
    // Values the schema allows but nothing downstream can store or process (NUL, lone surrogates, huge numbers,
    // deep nesting, over-long ids); checked first, because the schema validator recurses.
    const values = checkInputValues(msg.params, 'params');
    if (!values.ok) return reject(id, EposError.invalid(`${values.field} ${values.reason}`));
    const v = this.validator.validateRequest(method, msg);
    if (!v.ok) return reject(id, EposError.invalid(`${v.field} ${v.reason}`));
    return { kind: 'request', id, method, params: msg.params };
  }

  /**
   * A JSON-RPC batch: not served (Dojo sends one request per message). Each
   * element is refused with its own id, as JSON-RPC 2.0 answers a batch; an
   * empty or oversized batch gets one Invalid Request with a null id.
   */
  private batch(items: unknown[]): Decoded {
    if (items.length === 0) return reject(null, invalidRequest('an empty JSON-RPC batch is not a request'));
    if (items.length > MAX_BATCH) {
      return reject(null, invalidRequest(`JSON-RPC batches are not served, and this one has more than ${MAX_BATCH} elements`));
    }
    const error = invalidRequest('JSON-RPC batches are not served by this EPOS; send each request as its own message');
    return {
      kind: 'batch',
      errorType: error.errorType,
      replies: items.map((item) => {
        const raw = isRecord(item) && usableId(item.id) ? item.id : null;
        const id = raw !== null && badId(raw) === undefined ? raw : null;
        return { id, response: (traceId: string) => failure(id as string | null, error.toBody(traceId)) };
      }),
    };
  }

  readonly dialect = EPOS_DATA_PROFILE;

  encode(response: JsonRpcResponse, id: string | number | null): string {
    return JSON.stringify(response.id === id ? response : { ...response, id });
  }

  deadlineMs(method: string): number {
    return isEposMethod(method) ? METHOD_INFO[method].deadlineMs : 5_000;
  }

  mutates(method: string): boolean {
    return isEposMethod(method) && METHOD_INFO[method].mutates;
  }

  readsOnly(method: string): boolean {
    return isEposMethod(method) && !METHOD_INFO[method].mutates;
  }

  failure(id: string | number | null, kind: GatewayFailure, message: string, traceId: string): JsonRpcResponse {
    const error =
      kind === 'oversize' ? new EposError('InvalidRequest', message, JsonRpcCode.InvalidRequest, 'Invalid Request') : new EposError('UnexpectedError', message);
    return failure(id as string | null, error.toBody(traceId));
  }

  outcome(response: JsonRpcResponse): { errorType?: string; platformFailure: boolean } {
    if (!isFailure(response)) return { platformFailure: false };
    return { errorType: response.error.errorType, platformFailure: response.error.errorType === 'UnexpectedError' };
  }

  peekId(head: string): string | number | null {
    return peekJsonId(head);
  }
}
