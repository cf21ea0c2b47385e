import pino, { Logger } from 'pino';
import type { LoggerService } from '@nestjs/common';

export type { Logger };

/** Field names whose values are never written to logs. */
const REDACT = [
  'apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'secret', '*.secret', 'token', '*.token', 'password', '*.password',
];

/**
 * Structured JSON logs (one object per line). Request-scoped children carry
 * `rpcId`, `locationId` and `traceId` so every line of a request can be found.
 */
export function createLogger(app: string, level = 'info'): Logger {
  return pino({
    level,
    base: { app, pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** Adapts a pino logger to Nest's LoggerService so framework messages share the format. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
