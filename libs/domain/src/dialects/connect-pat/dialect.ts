import { ConnectPat } from '@app/contracts';
import type { Dialect } from '../../rpc/dialect';
import type { PatErrorBody } from './errors';
import { patErrorOf, patErrors } from './errors';
import { connectPatMethods } from './method-table';
import { CONNECT_PAT_LOCK_TTL_MS } from './pat.mapping';

/** What the worker hands back for the gateway to send: a JSON-RPC response whose error is an errorMessage. */
export type PatReply = { jsonrpc: '2.0'; id: string; result: unknown } | { jsonrpc: '2.0'; id: string; error: PatErrorBody };

/**
 * Paymentsense Connect pay at table as RpcDispatcher's dialect: the method
 * table, the three messages that change state (lock, payments, unlock),
 * refusals as errorMessage (patErrorOf) and the JSON-RPC envelope. Wire names
 * and shapes: libs/contracts connect-pat.ts. A table lock lasts `lockTtlMs`
 * (CONNECT_PAT_LOCK_TTL_MS in the worker's environment).
 */
export const connectPatDialect = (o: { lockTtlMs?: number } = {}): Dialect<PatReply, ConnectPat.PatError> => ({
  name: 'connect-pat',
  methods: connectPatMethods(o.lockTtlMs ?? CONNECT_PAT_LOCK_TTL_MS),
  mutates: (method) => (ConnectPat.PAT_MUTATING as readonly string[]).includes(method),
  refusal: patErrorOf,
  unknownMethod: patErrors.unknownMethod,
  idReused: patErrors.idReused,
  deadlinePassed: patErrors.deadlinePassed,
  unexpected: patErrors.unexpected,
  notApplied: patErrors.notApplied,
  success: (rpcId, value) => ({ jsonrpc: '2.0', id: rpcId, result: value }),
  failure: (rpcId, error, traceId) => ({ jsonrpc: '2.0', id: rpcId, error: { ...error, data: { traceId } } }),
  describe: (error) => ({ code: error.code, errorMessage: error.message }),
});

/** The dialect with the default lock lifetime. */
export const CONNECT_PAT = connectPatDialect();
