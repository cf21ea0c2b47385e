import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from '@app/config';
import { isPublicKey } from '@app/db';
import { hardenHttpServer } from './http-limits';
import type { Logger } from './logger';
import { createLogger, NestPinoLogger } from './logger';
import { closeOnSignals } from './shutdown';

export interface RunningApp {
  app: INestApplication;
  url: string;
  logger: Logger;
  close(): Promise<void>;
}

/** Operator tokens that are placeholders from examples (docker-compose.yml used to fall back to change-me-operator-token-0001). */
const PLACEHOLDER_TOKEN = /^change-?me/i;

interface PublicSecretsConfig {
  EPOS_RELAY_ENCRYPTION_KEY?: string;
  ADMIN_OPERATOR_TOKENS?: readonly string[];
}

/**
 * What makes a configuration unfit for production: a public encryption key (anyone could decrypt the stored Dojo
 * keys and webhook secrets) or a placeholder operator token (anyone could use the operator API). Empty when fine.
 * Previous keys (EPOS_RELAY_ENCRYPTION_KEYS_OLD) are not checked: moving off a public key puts it there for a while.
 */
export function publicSecretProblems(config: PublicSecretsConfig): string[] {
  const problems: string[] = [];
  if (config.EPOS_RELAY_ENCRYPTION_KEY !== undefined && isPublicKey(config.EPOS_RELAY_ENCRYPTION_KEY)) problems.push('EPOS_RELAY_ENCRYPTION_KEY is a public key (the development key or the docker-compose example)');
  if (config.ADMIN_OPERATOR_TOKENS?.some((t) => PLACEHOLDER_TOKEN.test(t))) problems.push('ADMIN_OPERATOR_TOKENS holds a placeholder token (change-me...)');
  return problems;
}

/**
 * Loads config (a bad variable stops boot with a message naming it), creates the
 * Nest app, listens, and wires SIGINT/SIGTERM to a graceful close bounded by
 * SHUTDOWN_TIMEOUT_MS (see ./shutdown.ts).
 */
export async function bootstrapHttpApp<
  C extends {
    PORT: number;
    HOST: string;
    LOG_LEVEL: string;
    SHUTDOWN_TIMEOUT_MS?: number;
    SHUTDOWN_DRAIN_MS?: number;
    HTTP_HEADERS_TIMEOUT_MS?: number;
    HTTP_REQUEST_TIMEOUT_MS?: number;
    HTTP_KEEP_ALIVE_TIMEOUT_MS?: number;
  },
>(opts: {
  name: string;
  loadConfig: () => C;
  module: (config: C, logger: Logger) => unknown;
  configure?: (app: INestApplication, config: C) => void | Promise<void>;
  handleSignals?: boolean;
  /** Fields added to every log line of the work in progress (createLogger's `context`), e.g. `requestLogFields`. */
  logContext?: () => Record<string, unknown> | undefined;
}): Promise<RunningApp> {
  let config: C;
  try {
    config = opts.loadConfig();
    const headersMs = config.HTTP_HEADERS_TIMEOUT_MS ?? 10_000;
    const requestMs = config.HTTP_REQUEST_TIMEOUT_MS ?? 30_000;
    if (requestMs > 0 && headersMs > requestMs) {
      throw new ConfigError([`HTTP_HEADERS_TIMEOUT_MS is malformed: ${headersMs} is more than HTTP_REQUEST_TIMEOUT_MS (${requestMs})`]);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`[${opts.name}] cannot start: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  if ((config as { NODE_ENV?: string }).NODE_ENV === 'production') {
    const problems = publicSecretProblems(config as PublicSecretsConfig);
    if (problems.length) {
      process.stderr.write(`[${opts.name}] cannot start: ${problems.join('; ')}; set your own with NODE_ENV=production\n`);
      process.exit(78);
    }
  }
  const logger = createLogger(opts.name, config.LOG_LEVEL, undefined, opts.logContext ? { context: opts.logContext } : {});
  const app = await NestFactory.create(opts.module(config, logger) as never, {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  // Slow clients (a byte at a time) are cut off by our own timeouts, not Node's generous defaults; Node's own 4xx answers are JSON.
  hardenHttpServer(app.getHttpServer(), {
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS ?? 10_000,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS ?? 30_000,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? 5_000,
  });
  await opts.configure?.(app, config);
  // Signals are handled from before listen(): its init runs the onApplicationBootstrap hooks, which start consuming
  // queues; a SIGTERM then (a supervisor stopping an app that is still starting) must close them, not kill the process
  // with jobs in hand. The close begins once the start has finished (see closeOnSignals' `started`).
  let startFinished!: () => void;
  const started = new Promise<void>((resolve) => (startFinished = resolve));
  if (opts.handleSignals !== false) closeOnSignals(app, opts.name, logger, config.SHUTDOWN_TIMEOUT_MS ?? 10_000, config.SHUTDOWN_DRAIN_MS ?? 0, started);
  await app.listen(config.PORT, config.HOST);
  const addr = app.getHttpServer().address();
  const url = `http://${config.HOST}:${typeof addr === 'object' && addr ? addr.port : config.PORT}`;
  logger.info({ url }, `${opts.name} listening`);
  startFinished();
  return { app, url, logger, close: () => app.close() };
}
