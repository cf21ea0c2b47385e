import { ConnectPac } from '@app/contracts';
import { DomainRefusal } from '../../core/refusal';

const C = ConnectPac.PAC_ERROR_CODES;

/** A JSON-RPC error as this dialect sends it to Connect, plus the trace id (JSON-RPC's `data`) for support. */
export interface PacErrorBody extends ConnectPac.PacError {
  data?: { traceId: string };
}

/** A refusal worded by this dialect's mapping (params that do not fit), thrown before any use-case runs. */
export class PacRefusal extends Error {
  constructor(readonly body: ConnectPac.PacError) {
    super(body.message);
    this.name = 'PacRefusal';
  }
}

/** Connect PAC's answer to a refusal: JSON-RPC's codes (libs/contracts connect-pac.ts); anything else is not a refusal. */
export function pacErrorOf(err: unknown): ConnectPac.PacError | undefined {
  if (err instanceof PacRefusal) return err.body;
  if (err instanceof DomainRefusal) return { code: err.kind === 'invalid' ? C.invalidParams : C.internalError, message: err.message };
  return undefined;
}

export const pacErrors = {
  unknownMethod: (method: string): ConnectPac.PacError => ({ code: C.methodNotFound, message: `method ${method} is not served by this EPOS` }),
  idReused: (rpcId: string, storedMethod: string): ConnectPac.PacError => ({ code: C.invalidRequest, message: `id ${rpcId} was already used for ${storedMethod}` }),
  deadlinePassed: (method: string): ConnectPac.PacError => ({ code: C.internalError, message: `${method} could not be answered in time` }),
  notApplied: (message: string): ConnectPac.PacError => ({ code: C.internalError, message }),
  unexpected: (): ConnectPac.PacError => ({ code: C.internalError, message: 'the EPOS could not answer the request' }),
};
