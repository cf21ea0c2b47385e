import type { JsonRpcResponse } from '@app/contracts';
import { EposError, failure, isEposMethod, METHOD_INFO, success } from '@app/contracts';
import type { Dialect } from '../../rpc/dialect';
import { eposErrorOf } from './errors';
import { EPOS_DATA_METHODS } from './method-table';

/**
 * Dojo's EPOS Data API (JSON-RPC) as RpcDispatcher's dialect: the method
 * table, METHOD_INFO's mutating methods, refusals as EposError (eposErrorOf)
 * and the JSON-RPC envelope. The default dialect of the worker and the
 * in-process gateway.
 */
export const EPOS_DATA: Dialect<JsonRpcResponse, EposError> = {
  name: 'epos-data',
  methods: EPOS_DATA_METHODS,
  mutates: (method) => isEposMethod(method) && METHOD_INFO[method].mutates,
  eventMethod: 'HandleEventV1',
  pureReads: true,
  refusal: eposErrorOf,
  unknownMethod: (method) => EposError.invalid(`method ${method} is not served by this EPOS`),
  idReused: (rpcId, storedMethod) => EposError.invalid(`JSON-RPC id ${rpcId} was already used for ${storedMethod}; use a new id for a new request`),
  deadlinePassed: (method) => EposError.unexpected(`${method} could not finish before its deadline; it was rolled back and nothing was applied`),
  unexpected: () => EposError.unexpected(),
  notApplied: (message) => EposError.unexpected(message),
  success: (rpcId, value) => success(rpcId, value),
  failure: (rpcId, error, traceId) => failure(rpcId, error.toBody(traceId)),
  describe: (error) => ({ errorType: error.errorType, debugMessage: error.debugMessage }),
};
