import type { JsonRpcResponse, TablesErrorCode } from '@app/contracts';
import {
  peekJsonId,
  badString,
  checkInputValues,
  DOJO_TABLES_URLS,
  isTablesError,
  isTablesMethod,
  parseTablesParams,
  TABLES_METHOD_INFO,
  TABLES_READ_DEADLINE_MS,
  TABLES_WRITE_DEADLINE_MS,
} from '@app/contracts';
import type { LocationConfig } from '../locations/location-config';
import type { ConnectionProfile, Decoded, DecodedRejection, GatewayFailure, InternalResponse } from './connection-profile';

export const DOJO_TABLES_PROFILE = 'dojo-tables';

const MAX_ID_LENGTH = 256;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An answer inside `result`, as every Tables API answer is (errors included). */
function tablesResult(id: string | number | null, result: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id: id as string | null, result };
}

function tablesError(id: string | number | null, errorCode: TablesErrorCode, errorReason: string): JsonRpcResponse {
  return tablesResult(id, { errorCode, errorReason });
}

function reject(id: string | number | null, errorCode: TablesErrorCode, reason: string): DecodedRejection {
  return { kind: 'reject', id, errorType: errorCode, reason, response: () => tablesError(id, errorCode, reason) };
}

/** A usable id (echoed exactly), null when there is none, or why it is refused. */
function idOf(v: unknown): { id: string | number | null; wrong?: string } {
  if (typeof v === 'number' && Number.isFinite(v)) return { id: v };
  if (typeof v === 'string' && v.length > 0) {
    const why = badString(v, MAX_ID_LENGTH);
    return why ? { id: null, wrong: `id ${why}` } : { id: v };
  }
  return { id: null };
}

/** The session a request is about (its sessionId, or its payment's), which orders it behind the session's earlier ones. */
function sessionOf(params: unknown): string | undefined {
  if (!isRecord(params)) return undefined;
  if (typeof params.sessionId === 'string') return params.sessionId;
  return isRecord(params.payment) && typeof params.payment.sessionId === 'string' ? params.payment.sessionId : undefined;
}

/**
 * Dojo's legacy Tables API (protocols.md Part 1):
 * - dials `wss://api.dojo.tech/ws/v1/tables/epos` (staging `wss://staging-api.dojo.dev/ws/v1/tables/epos`,
 *   or the location's ws_url) with `Authorization: Basic base64("<accountName>:<apiKey>")` (no spaces),
 *   `software-house-id` and, when set, `reseller-id`;
 * - JSON-RPC 2.0 requests whose answers, errors included, are always `result` (`{errorCode, errorReason}`);
 * - a frame that cannot be parsed gets ERROR_PARSE_ERROR and the socket stays open (Dojo's own connector
 *   dropped the socket); `ErrorNotification` is logged with the id it refers to and never answered;
 * - string or number ids, echoed exactly;
 * - the requests about one session are dispatched one after another, in the order they arrived (`orderedBy`).
 */
export class DojoTablesProfile implements ConnectionProfile {
  readonly name = DOJO_TABLES_PROFILE;
  readonly dialect = DOJO_TABLES_PROFILE;

  buildUrl(location: LocationConfig): string {
    if (location.wsUrl) return location.wsUrl;
    return location.settings?.environment === 'staging' ? DOJO_TABLES_URLS.staging : DOJO_TABLES_URLS.production;
  }

  handshakeHeaders(location: LocationConfig): Record<string, string> {
    const accountName = typeof location.settings?.accountName === 'string' ? location.settings.accountName : '';
    const token = Buffer.from(`${accountName}:${location.apiKey ?? ''}`, 'utf8').toString('base64');
    const headers: Record<string, string> = { Authorization: `Basic ${token}`, 'software-house-id': location.softwareHouseId };
    if (location.resellerId) headers['reseller-id'] = location.resellerId;
    return headers;
  }

  decode(text: string): Decoded {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return reject(null, 'ERROR_PARSE_ERROR', 'the message is not valid JSON');
    }
    if (!isRecord(msg)) return reject(null, 'ERROR_PARSE_ERROR', 'a request must be a JSON-RPC 2.0 object (batches are not served)');
    const { id, wrong } = idOf(msg.id);
    if (wrong) return reject(null, 'ERROR_PARSE_ERROR', wrong);
    const method = msg.method;
    if (method === 'ErrorNotification') {
      const p = isRecord(msg.params) ? msg.params : {};
      return {
        kind: 'ignore',
        message: 'Dojo could not process a message of ours (ErrorNotification)',
        fields: {
          errorCode: typeof p.errorCode === 'string' ? p.errorCode.slice(0, 100) : undefined,
          errorReason: typeof p.errorReason === 'string' ? p.errorReason.slice(0, 500) : undefined,
          refersToId: typeof p.id === 'string' || typeof p.id === 'number' ? p.id : undefined,
          rpcId: id,
        },
      };
    }
    if (id === null) return reject(null, 'ERROR_PARSE_ERROR', 'id is required (a non-empty string or a number)');
    if (msg.jsonrpc !== undefined && msg.jsonrpc !== '2.0') return reject(id, 'ERROR_PARSE_ERROR', 'jsonrpc must be "2.0"');
    if (typeof method !== 'string' || method.length === 0) return reject(id, 'ERROR_PARSE_ERROR', 'method is required (a non-empty string)');
    if (!isTablesMethod(method)) return reject(id, 'ERROR_PARSE_ERROR', `method ${JSON.stringify(method).slice(0, 100)} is not a Tables API method`);
    const values = checkInputValues(msg.params, 'params');
    if (!values.ok) return reject(id, 'ERROR_PARSE_ERROR', `${values.field} ${values.reason}`);
    const parsed = parseTablesParams(method, msg.params);
    if (!parsed.ok) return reject(id, 'ERROR_PARSE_ERROR', `${parsed.field}: ${parsed.reason}`);
    const session = sessionOf(parsed.params);
    return { kind: 'request', id, method, params: parsed.params, ...(session !== undefined ? { orderedBy: session } : {}) };
  }

  encode(response: InternalResponse, id: string | number | null): string {
    // The worker's Tables dialect answers in `result` already; anything else (an EPOS Data-shaped error) is re-worded.
    if ('error' in response) {
      return JSON.stringify(tablesError(id, 'ERROR_INTERNAL_POS_ERROR', response.error.debugMessage ?? 'the EPOS could not complete the request'));
    }
    return JSON.stringify(tablesResult(id, response.result));
  }

  peekId(head: string): string | number | null {
    return peekJsonId(head);
  }

  deadlineMs(method: string): number {
    return this.mutates(method) ? TABLES_WRITE_DEADLINE_MS : TABLES_READ_DEADLINE_MS;
  }

  mutates(method: string): boolean {
    return isTablesMethod(method) && TABLES_METHOD_INFO[method].mutates;
  }

  readsOnly(method: string): boolean {
    return isTablesMethod(method) && !TABLES_METHOD_INFO[method].mutates;
  }

  failure(id: string | number | null, kind: GatewayFailure, message: string, traceId: string): JsonRpcResponse {
    return tablesError(id, kind === 'oversize' ? 'ERROR_PARSE_ERROR' : 'ERROR_INTERNAL_POS_ERROR', `${message} (trace ${traceId})`);
  }

  outcome(response: InternalResponse): { errorType?: string; platformFailure: boolean } {
    if ('error' in response) return { errorType: 'ERROR_INTERNAL_POS_ERROR', platformFailure: true };
    if (!isTablesError(response.result)) return { platformFailure: false };
    return { errorType: response.result.errorCode, platformFailure: response.result.errorCode === 'ERROR_INTERNAL_POS_ERROR' };
  }
}
