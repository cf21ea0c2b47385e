import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { answerTooLarge, LOGGER, Logger, requestScopeOf } from '@app/common';
import { EposError } from '@app/contracts';
import { DojoApiError, DojoContractError } from '@app/dojo-client';
import { DomainError, RedisUnavailable, WaitTimedOut } from '@app/domain/admin';

/** The JSON body of a 413 (ADMIN_MAX_BODY_BYTES exceeded), with the request's id when it has one. */
export function tooLargeBody(limit?: number, requestId?: string): Record<string, unknown> {
  return {
    error: 'entity.too.large',
    message: limit ? `the body is larger than ${limit} bytes` : 'the body is too large',
    ...(limit ? { limit } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/**
 * Postgres data exceptions caused by input (Prisma P2020 value out of range, 22003, 22021, 22P05), and 54000
 * (program_limit_exceeded: a value too large for an index entry, which the venue API's limits on ids should stop first).
 */
function isDataException(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: { originalCode?: unknown } } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code === 'P2020') return true;
  const codes = ['22003', '22021', '22P05', '54000'];
  for (const code of [e.code, e.cause?.originalCode]) if (typeof code === 'string' && codes.includes(code)) return true;
  return (
    typeof e.message === 'string' &&
    /value out of range|out of range for type|invalid byte sequence|unsupported Unicode escape|index row size|index row requires/i.test(e.message)
  );
}

/** The venue API's routes (a POS's token), as opposed to the operator API's. */
function isVenueRoute(req: Request): boolean {
  return (req.originalUrl ?? req.url ?? '').startsWith('/venue/');
}

/** What a venue's POS is told of a failed Dojo call: no path, no body, no network detail. */
function dojoFailureText(status: number): string {
  return status === 0 ? 'Dojo could not be reached' : `Dojo answered with HTTP ${status}`;
}

/** Retry-After of a 503 redis_unavailable: about what a reconnect to Redis (or a Sentinel failover) takes. */
const REDIS_RETRY_AFTER_S = 5;

const STATUS: Record<DomainError['kind'], number> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  locked: 409,
  forbidden: 403,
  unprocessable: 422,
  gone: 410,
  precondition_failed: 412,
};

/** What answering one error needs: the request, its response, a JSON sender that adds the request id, its logger. */
interface Answering {
  req: Request;
  res: Response;
  send: (status: number, body: object) => void;
  log: Logger;
  requestId: string | undefined;
}

/**
 * Errors as JSON: {statusCode, error, message, fields?, ...details, requestId}. Domain
 * errors map to 400/404/409, Dojo failures to 502, Redis not answering to 503
 * redis_unavailable, anything else to a generic 500 (details only in the log,
 * on a line with the same requestId).
 */
@Catch()
export class AdminErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost) {
    const req = host.switchToHttp().getRequest<Request>();
    const scope = requestScopeOf(req);
    const res = host.switchToHttp().getResponse<Response>();
    // Every body names the request, so a caller's report finds its log lines.
    const send = (status: number, body: object) => void res.status(status).json(scope ? { ...body, requestId: scope.requestId } : body);
    // The request's fields bound here too, not only through the log context: the line must carry them.
    const log = scope ? this.logger.child(scope.fields()) : this.logger;
    this.answer(err, { req, res, send, log, requestId: scope?.requestId });
  }

  private answer(err: unknown, { req, res, send, log, requestId }: Answering): void {
    if (err instanceof DomainError) {
      const status = STATUS[err.kind];
      send(status, {
        statusCode: status,
        error: err.kind,
        message: err.message,
        ...(err.fields.length ? { fields: err.fields } : {}),
        ...err.details,
      });
      return;
    }
    if (err instanceof WaitTimedOut) {
      // Nothing was written: the same request may be sent again. A stuck holder shows in the log as a run of these.
      log.warn({ err: err.message }, 'a venue write gave up waiting for a row another transaction holds');
      res.setHeader('retry-after', '1');
      send(503, { statusCode: 503, error: 'busy', message: 'what this write changes is held by another change for too long; nothing was written, send it again' });
      return;
    }
    if (err instanceof RedisUnavailable) {
      // Redis is down or failing over: the caller may try again shortly. The Redis error itself goes to the log only.
      log.warn({ err: (err.cause as Error | undefined)?.message }, err.message);
      res.setHeader('retry-after', String(REDIS_RETRY_AFTER_S));
      send(503, { statusCode: 503, error: 'redis_unavailable', message: `${err.message}: Redis is not answering; try again shortly` });
      return;
    }
    if (err instanceof EposError) {
      // Shared domain helpers (e.g. the order mapper) speak Dojo's error categories.
      const status = err.errorType === 'InvalidRequest' ? 400 : err.errorType === 'NotFound' ? 404 : err.errorType === 'Conflict' ? 409 : 500;
      send(status, { statusCode: status, error: err.errorType, message: status === 500 ? 'internal error' : err.debugMessage });
      return;
    }
    if (err instanceof HttpException) {
      const body = err.getResponse();
      send(err.getStatus(), typeof body === 'string' ? { statusCode: err.getStatus(), message: body } : body);
      return;
    }
    if (err instanceof DojoContractError) {
      // Our request would not fit Dojo's contract: nothing was sent; logged in full, answered as a gateway failure.
      log.error({ err: err.message }, 'a Dojo call was not sent: its body does not fit the contract');
      send(502, { statusCode: 502, error: 'dojo_contract', message: err.message });
      return;
    }
    if (err instanceof DojoApiError) {
      // The message names Dojo's path and quotes Dojo's answer (or our network error). A venue's POS gets a plain
      // message and Dojo's status, the details go to the log; the operator API, whose callers run the platform,
      // keeps them in the answer.
      log.warn({ err: err.message, dojoStatus: err.status }, 'a Dojo call failed');
      const message = isVenueRoute(req) ? dojoFailureText(err.status) : err.message;
      send(502, { statusCode: 502, error: 'dojo_error', message, dojoStatus: err.status });
      return;
    }
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string; limit?: number };
    const status = e?.status ?? e?.statusCode;
    if (status === 413) {
      // body-parser stopped reading a body over the limit: read the rest through before answering.
      // Never rejects: answerTooLarge drains with its own error handling and gives up on an aborted request.
      void answerTooLarge(req, res, tooLargeBody(e.limit, requestId));
      return;
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser errors: malformed JSON, too large, wrong charset.
      send(status, { statusCode: status, error: e.type ?? 'bad_request', message: e.message ?? 'bad request' });
      return;
    }
    if (isDataException(err)) {
      // A value the checks above let through but Postgres cannot store: the caller's input, not our failure.
      log.warn({ err: (err as Error)?.message }, 'admin request refused by the database as a data exception');
      send(400, { statusCode: 400, error: 'invalid', message: 'a value cannot be stored (out of range, too large, or not valid text)' });
      return;
    }
    log.error({ err: (err as Error)?.message, stack: (err as Error)?.stack }, 'admin request failed');
    send(500, { statusCode: 500, error: 'internal', message: 'internal error' });
  }
}

