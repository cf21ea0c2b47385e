import { ConnectPat } from '@app/contracts';
import type { RefusalKind } from '../../core/refusal';
import { DomainRefusal } from '../../core/refusal';

const C = ConnectPat.PAT_ERROR_CODES;

/** An errorMessage as this dialect sends it: Connect's fields, plus the trace id (JSON-RPC's `data`) for support. */
export interface PatErrorBody extends ConnectPat.PatError {
  data?: { traceId: string };
}

/** A refusal worded by this dialect's mapping (wire field names), thrown before any use-case runs. */
export class PatRefusal extends Error {
  constructor(readonly body: ConnectPat.PatError) {
    super(body.message);
    this.name = 'PatRefusal';
  }
}

const BY_KIND: Record<RefusalKind, { code: number; userMessage: string }> = {
  not_found: { code: C.tableNotFound, userMessage: 'Table not found at the till' },
  conflict: { code: C.conflict, userMessage: 'The till refused this; please see a member of staff' },
  invalid: { code: C.invalidParams, userMessage: 'The till could not read this request' },
};

/**
 * Connect PAT's answer to a refusal: a DomainRefusal's kind to an error code
 * (codes and wording in libs/contracts connect-pat.ts) with its message; a
 * PatRefusal is already one. Anything else is not a refusal: undefined.
 */
export function patErrorOf(err: unknown): ConnectPat.PatError | undefined {
  if (err instanceof PatRefusal) return err.body;
  if (err instanceof DomainRefusal) {
    const k = BY_KIND[err.kind];
    return { code: k.code, message: err.message, userMessage: k.userMessage };
  }
  return undefined;
}

export const patErrors = {
  unknownMethod: (method: string): ConnectPat.PatError => ({ code: C.methodNotFound, message: `message ${method} is not served by this EPOS` }),
  idReused: (rpcId: string, storedMethod: string): ConnectPat.PatError => ({
    code: C.invalidRequest,
    message: `id ${rpcId} was already used for ${storedMethod}; use a new id for a new message`,
  }),
  deadlinePassed: (method: string): ConnectPat.PatError => ({
    code: C.timeout,
    message: `${method} could not finish in time; nothing was applied`,
    userMessage: 'The till is busy; please try again',
  }),
  notApplied: (message: string): ConnectPat.PatError => ({ code: C.internalError, message, userMessage: 'The till could not answer; please try again' }),
  unexpected: (): ConnectPat.PatError => ({
    code: C.internalError,
    message: 'the EPOS could not complete the request; it was not applied',
    userMessage: 'The till could not answer; please try again',
  }),
};
