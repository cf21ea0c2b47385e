import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { HealthRegistry } from './health';
import type { Logger } from './logger';
import { HEALTH } from './tokens';

const HOOKS = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'] as const;
/** The signals that close an app: Ctrl-C, a supervisor's stop, and the terminal closing (hang-up). */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * SIGINT/SIGTERM/SIGHUP close the app gracefully, within `timeoutMs`. Past it the app
 * logs what it was still waiting for (the lifecycle hooks that had not returned,
 * the HTTP server, Node's active resources) and exits with code 1. A second
 * SIGINT (Ctrl-C again, a second or more after the first) exits at once (code
 * 130); a SIGTERM or SIGHUP while closing is ignored, because a supervisor (`npm start`) sends one to apps that may have
 * had the terminal's SIGINT already. SIGHUP is the terminal closing (its default would end the app without closing
 * anything). A graceful close exits with code 0.
 *
 * `started` settles when the app has finished starting (listen() returned). A signal that comes before closes the app
 * once it has: Nest's close run beside a start still in its onApplicationBootstrap hooks would close half-started
 * services that the start then carries on with. The deadline counts from the signal all the same.
 */
export function closeOnSignals(app: INestApplication, name: string, logger: Logger, timeoutMs: number, drainMs = 0, started: Promise<void> = Promise.resolve()): void {
  const pending = trackShutdown(app);
  const STARTING = 'the app to finish starting (listen)';
  pending.add(STARTING);
  void started.then(() => pending.delete(STARTING));
  let closing = false;
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // Already closing within the deadline: a SIGTERM or SIGHUP, or the same Ctrl-C delivered twice
      // (a SIGINT less than a second after the first), changes nothing.
      if (signal !== 'SIGINT' || Date.now() - firstAt < 1_000) return;
      logger.warn({ signal, waitingFor: [...pending] }, `${name}: second ${signal}, exiting at once`);
      process.exit(130);
    }
    closing = true;
    firstAt = Date.now();
    logger.info({ signal, timeoutMs, drainMs }, `${name} shutting down`);
    // Readiness goes false first; the app keeps serving for drainMs while load balancers take it out of rotation.
    markDraining(app);
    setTimeout(() => {
      const waitingFor = [...pending];
      logger.error(
        { waitingFor, activeResources: process.getActiveResourcesInfo() },
        `${name}: shutdown did not finish within ${timeoutMs} ms (SHUTDOWN_TIMEOUT_MS); still waiting for ${waitingFor.join(', ') || 'the close to return'}; exiting`,
      );
      process.exit(1);
    }, drainMs + timeoutMs);
    const drained = drainMs > 0 ? new Promise<void>((r) => setTimeout(r, drainMs)) : Promise.resolve();
    Promise.all([drained, started])
      .then(() => {
        shortenKeepAlive(app);
        return app.close();
      })
      .then(
        () => {
          logger.info(`${name} stopped`);
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, `${name}: shutdown failed`);
          process.exit(1);
        },
      );
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  // Closed by its owner (in-process tests): stop listening, so closed apps do not pile up listeners.
  const close = app.close.bind(app);
  app.close = async (...args: Parameters<typeof close>) => {
    try {
      return await close(...args);
    } finally {
      if (!closing) for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    }
  };
}

/** How long a connection may stay idle once the app is closing. */
const CLOSING_KEEP_ALIVE_MS = 1_000;

/**
 * Node's server.close() closes the idle connections only: one still answering a request when the drain ends would then
 * stay open for the keep-alive timeout after its answer (HTTP_KEEP_ALIVE_TIMEOUT_MS, 65 s behind the ingress in
 * deploy/k8s), holding the close past SHUTDOWN_TIMEOUT_MS. The load balancers stopped sending during the drain, so a
 * short one is enough from then on.
 */
function shortenKeepAlive(app: INestApplication): void {
  const server = app.getHttpServer() as Server | undefined;
  if (server && server.keepAliveTimeout > CLOSING_KEEP_ALIVE_MS) server.keepAliveTimeout = CLOSING_KEEP_ALIVE_MS;
}

/** Records which lifecycle hooks (and the HTTP server's close) have started and not yet finished. */
function trackShutdown(app: INestApplication): Set<string> {
  const pending = new Set<string>();
  const seen = new WeakSet<object>();
  const track = <T extends object>(target: T, method: string, label: string) => {
    const original = (target as Record<string, unknown>)[method];
    if (typeof original !== 'function') return;
    (target as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
      pending.add(label);
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (err) {
        pending.delete(label);
        throw err;
      }
      return Promise.resolve(result).finally(() => pending.delete(label));
    };
  };
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of [...mod.providers.values(), ...mod.controllers.values(), ...mod.injectables.values()]) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance) || Object.isFrozen(instance)) continue;
      seen.add(instance);
      const label = instance.constructor?.name && instance.constructor !== Object ? instance.constructor.name : String(wrapper.name);
      for (const hook of HOOKS) track(instance, hook, `${label}.${hook}`);
    }
  }
  const adapter = app.getHttpAdapter() as unknown as object;
  track(adapter, 'close', 'the HTTP server to close (open connections)');
  return pending;
}

/** Turns GET /health/ready to 503 (an app without the health registry has nothing to mark). */
function markDraining(app: INestApplication): void {
  try {
    const registry: unknown = app.get(HEALTH, { strict: false });
    if (registry instanceof HealthRegistry) registry.draining = true;
  } catch {
    // No HEALTH provider (not a CoreModule app): readiness is then the listener itself, closed by app.close().
  }
}
