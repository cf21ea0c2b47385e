import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type Redis from 'ioredis';
import type { PrismaClient } from '@app/db';
import { APP_NAME, PRISMA, REDIS } from './tokens';

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

/** GET /health: 200 when Postgres and Redis both answer, 503 with the reason otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_NAME) private readonly app: string,
  ) {}

  @Get()
  async health(@Res() res: Response) {
    const checks = await checkDependencies(this.prisma, this.redis);
    const ok = checks.postgres.ok && checks.redis.ok;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unhealthy', app: this.app, checks });
  }
}
