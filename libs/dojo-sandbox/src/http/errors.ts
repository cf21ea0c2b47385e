import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { SandboxInputError } from '../accounts';
import { NotConnectedError, NotRoutedError } from '../epos-hub';
import { IntentStateError } from '../payment-intents';

/** Dojo-style ErrorResponse bodies ({status, title, detail, errors}). */
export function errorBody(status: number, title: string, detail: string, errors?: Record<string, string[]>) {
  return { status, title, detail, ...(errors && Object.keys(errors).length ? { errors } : {}) };
}

export function unauthorized(detail = 'a known API key is required as Authorization: Basic <key>'): HttpException {
  return new HttpException(errorBody(401, 'Unauthorized', detail), HttpStatus.UNAUTHORIZED);
}

@Catch(SandboxInputError, NotRoutedError, NotConnectedError, IntentStateError)
export class SandboxErrorFilter implements ExceptionFilter {
  catch(err: Error, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err instanceof SandboxInputError) {
      res.status(400).json(errorBody(400, 'Bad Request', err.message, err.errors));
    } else if (err instanceof IntentStateError) {
      res.status(err.status).json(errorBody(err.status, err.status === 404 ? 'Not Found' : 'Conflict', err.message));
    } else if (err instanceof NotRoutedError) {
      res.status(409).json(errorBody(409, 'Not routed', err.message));
    } else {
      res.status(503).json(errorBody(503, 'Not connected', err.message));
    }
  }
}
