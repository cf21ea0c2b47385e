import type { ConnectPac } from '@app/contracts';
import type { CounterSignals } from '../../counter/ports';
import type { Dialect } from '../../rpc/dialect';
import type { PacErrorBody } from './errors';
import { pacErrorOf, pacErrors } from './errors';
import { connectPacMethods } from './method-table';

/** What the worker hands back for the gateway to send (encodePacResult / encodePacError). */
export type PacReply = { jsonrpc: '2.0'; id: string; result: unknown } | { jsonrpc: '2.0'; id: string; error: PacErrorBody };

/**
 * Paymentsense Connect pay at counter as RpcDispatcher's dialect: what Connect
 * sends the EPOS on a PAC socket (terminalNotification, signatureVerificationRequest).
 * Neither runs in the dispatcher's transaction: a notification is one
 * statement, and a signature request waits for the POS (a transaction must
 * not stay open that long), each storing its events itself. Wire names and
 * shapes: libs/contracts connect-pac.ts.
 */
export const connectPacDialect = (signals: CounterSignals): Dialect<PacReply, ConnectPac.PacError> => ({
  name: 'connect-pac',
  methods: connectPacMethods(signals),
  mutates: () => false,
  refusal: pacErrorOf,
  unknownMethod: pacErrors.unknownMethod,
  idReused: pacErrors.idReused,
  deadlinePassed: pacErrors.deadlinePassed,
  unexpected: pacErrors.unexpected,
  notApplied: pacErrors.notApplied,
  success: (rpcId, value) => ({ jsonrpc: '2.0', id: rpcId, result: value }),
  failure: (rpcId, error, traceId) => ({ jsonrpc: '2.0', id: rpcId, error: { ...error, data: { traceId } } }),
  describe: (error) => ({ code: error.code, errorMessage: error.message }),
});
