import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type Redis from 'ioredis';
import type { PrismaClient } from '@app/db';
import { APP_NAME, HEALTH, PRISMA, REDIS } from './tokens';

export interface DependencyCheck {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

async function timed(fn: () => Promise<unknown>, timeoutMs: number, onTimeout: () => string = () => ''): Promise<DependencyCheck> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms${onTimeout()}`)), timeoutMs))),
    ]);
    return { ok: true, latencyMs: Math.round((performance.now() - t0) * 100) / 100 };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - t0), error: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkDependencies(prisma: PrismaClient, redis: Redis, timeoutMs = 2_000) {
  const [postgres, redisCheck] = await Promise.all([
    timed(() => prisma.$queryRaw`SELECT 1`, timeoutMs),
    timed(
      () =>
        redis.ping().catch((err: Error) => {
          throw new Error(`redis is unreachable (connection ${redis.status}): ${err.message}`);
        }),
      timeoutMs,
      () => ` (connection ${redis.status})`,
    ),
  ]);
  return { postgres, redis: redisCheck };
}

/** Something besides Postgres and Redis that the app's health depends on (e.g. a queue worker's loop). */
export interface HealthIndicator {
  /** The key of its check in the /health body, e.g. "worker:epos-rpc". */
  readonly name: string;
  /** Synchronous and cheap: /health is polled often. */
  check(): { ok: boolean; error?: string };
}

/**
 * The app's extra health indicators. Components that can fail on their own
 * (a BullMQ worker whose loop died, a connection closed for good) register
 * here, and GET /health turns 503 naming them.
 */
export class HealthRegistry {
  private readonly indicators = new Map<string, HealthIndicator>();
  /** Set once SIGTERM/SIGINT arrives (shutdown.ts): GET /health/ready answers 503 from then on. */
  draining = false;

  /**
   * @param readinessNeedsRedis false for an app whose main traffic does not need Redis (the webhook app stores events in
   * Postgres and does not wait for their enqueue; the admin's venue API is Postgres only): GET /health/ready then leaves
   * Redis out, so a Redis blip does not take every replica out of its Service at once. GET /health still reports it.
   */
  constructor(readonly readinessNeedsRedis = true) {}

  register(indicator: HealthIndicator): void {
    this.indicators.set(indicator.name, indicator);
  }

  unregister(indicator: HealthIndicator): void {
    if (this.indicators.get(indicator.name) === indicator) this.indicators.delete(indicator.name);
  }

  checks(): Record<string, { ok: boolean; error?: string }> {
    const out: Record<string, { ok: boolean; error?: string }> = {};
    for (const [name, indicator] of this.indicators) {
      try {
        out[name] = indicator.check();
      } catch (err) {
        out[name] = { ok: false, error: `the check failed: ${(err as Error).message}` };
      }
    }
    return out;
  }
}

/**
 * GET /health: 200 when Postgres and Redis both answer and every registered
 * indicator is ok, 503 with the reasons otherwise.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_NAME) private readonly app: string,
    @Inject(HEALTH) private readonly registry: HealthRegistry,
  ) {}

  /**
   * GET /health/live: the liveness probe. 200 whenever the process answers HTTP;
   * it checks no dependency, since restarting the app cures no Postgres or Redis outage.
   */
  @Get('live')
  live(@Res() res: Response) {
    res.status(200).json({ status: 'alive', app: this.app });
  }

  /**
   * GET /health/ready: the readiness probe. 503 `draining` from the shutdown
   * signal on (so a load balancer stops sending before the app closes, see
   * SHUTDOWN_DRAIN_MS), else the same answer as GET /health, except that an app
   * whose readiness does not need Redis (HealthRegistry.readinessNeedsRedis)
   * answers 200 without it (its check still shown, listed in `notRequired`).
   */
  @Get('ready')
  async ready(@Res() res: Response) {
    if (this.registry.draining) {
      res.status(503).json({ status: 'draining', app: this.app, checks: {} });
      return;
    }
    await this.answer(res, this.registry.readinessNeedsRedis ? [] : ['redis']);
  }

  @Get()
  async health(@Res() res: Response) {
    await this.answer(res, []);
  }

  private async answer(res: Response, notRequired: string[]) {
    const checks: Record<string, { ok: boolean; error?: string }> = {
      ...(await checkDependencies(this.prisma, this.redis)),
      ...this.registry.checks(),
    };
    const ok = Object.entries(checks).every(([name, c]) => c.ok || notRequired.includes(name));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unhealthy', app: this.app, checks, ...(notRequired.length ? { notRequired } : {}) });
  }
}
