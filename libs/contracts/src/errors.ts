import { randomUUID } from 'node:crypto';
import type { EposErrorType, JsonRpcErrorBody } from './jsonrpc';
import { JsonRpcCode } from './jsonrpc';

const DEFAULT_CODE: Record<EposErrorType, number> = {
  NotFound: JsonRpcCode.NotFound,
  Conflict: JsonRpcCode.Conflict,
  InvalidRequest: JsonRpcCode.InvalidParams,
  UnexpectedError: JsonRpcCode.InternalError,
};

const DEFAULT_MESSAGE: Record<EposErrorType, string> = {
  NotFound: 'Not found',
  Conflict: 'Conflict',
  InvalidRequest: 'Invalid params',
  UnexpectedError: 'Internal error',
};

/**
 * Thrown by a request's handler when it cannot know whether the request was applied (its commit may have reached
 * Postgres, and Postgres cannot be asked): the worker sends no reply at all, and the gateway's deadline claim
 * (ProcessedRequests.claimAtDeadline) answers with what was stored, or stores and sends its error. Any reply sent
 * instead would have to say "applied" or "not applied" without knowing which.
 */
export class ReplyWithheld extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ReplyWithheld';
  }
}

/**
 * An error a use-case raises for Dojo to see: errorType is Dojo's category,
 * debugMessage says what to do about it. Anything else thrown inside a handler
 * becomes UnexpectedError with a generic message (details go to the log only).
 */
export class EposError extends Error {
  constructor(
    readonly errorType: EposErrorType,
    readonly debugMessage: string,
    readonly code: number = DEFAULT_CODE[errorType],
    readonly rpcMessage: string = DEFAULT_MESSAGE[errorType],
  ) {
    super(`${errorType}: ${debugMessage}`);
    this.name = 'EposError';
  }

  static notFound(what: string, id: string): EposError {
    return new EposError('NotFound', `${what} ${JSON.stringify(id)} was not found at this location`);
  }
  static conflict(debugMessage: string): EposError {
    return new EposError('Conflict', debugMessage);
  }
  static invalid(debugMessage: string): EposError {
    return new EposError('InvalidRequest', debugMessage);
  }
  static unexpected(debugMessage = 'the EPOS could not complete the request; it was not applied'): EposError {
    return new EposError('UnexpectedError', debugMessage);
  }

  toBody(traceId: string): JsonRpcErrorBody {
    return { code: this.code, message: this.rpcMessage, errorType: this.errorType, debugMessage: this.debugMessage, traceId };
  }
}

export function newTraceId(): string {
  return randomUUID();
}
