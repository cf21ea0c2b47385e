import type { JsonRpcResponse } from '@app/contracts';
import { isTablesMethod, TABLES_METHOD_INFO } from '@app/contracts';
import type { Dialect } from '../../rpc/dialect';
import { TablesError, tablesErrorOf } from './errors';
import { tablesMethods } from './method-table';

/** How long a LockSession holds the order when nothing releases it (TABLES_LOCK_TTL_MS; README "Tables API locks"). */
export const DEFAULT_TABLES_LOCK_TTL_MS = 300_000;

/**
 * Dojo's legacy Tables API as RpcDispatcher's dialect: its method table, its
 * three mutating methods, refusals as TablesError (tablesErrorOf, per method),
 * and its envelope: every answer, errors included, is a JSON-RPC `result`.
 */
export function dojoTablesDialect(opts: { lockTtlMs?: number } = {}): Dialect<JsonRpcResponse, TablesError> {
  const internal = (message: string) => new TablesError('ERROR_INTERNAL_POS_ERROR', message);
  return {
    name: 'dojo-tables',
    methods: tablesMethods({ lockTtlMs: opts.lockTtlMs ?? DEFAULT_TABLES_LOCK_TTL_MS }),
    mutates: (method) => isTablesMethod(method) && TABLES_METHOD_INFO[method].mutates,
    refusal: tablesErrorOf,
    pureReads: true,
    unknownMethod: (method) => new TablesError('ERROR_PARSE_ERROR', `method ${method} is not a Tables API method`),
    idReused: (rpcId, storedMethod) => new TablesError('ERROR_PARSE_ERROR', `request id ${rpcId} was already used for ${storedMethod}; use a new id for a new request`),
    deadlinePassed: (method) => internal(`${method} could not finish in time; it was rolled back and nothing was applied`),
    unexpected: () => internal('the EPOS could not complete the request; it was not applied'),
    notApplied: internal,
    success: (rpcId, value) => ({ jsonrpc: '2.0', id: rpcId, result: value }),
    failure: (rpcId, error) => ({ jsonrpc: '2.0', id: rpcId, result: error.toResult() }),
    describe: (error) => ({ errorCode: error.errorCode, errorReason: error.errorReason }),
  };
}
