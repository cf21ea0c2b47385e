import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { ALL_CAPABILITIES } from '@app/contracts';
import type { PrismaClient } from '@app/db';
import { cloneDatabase, createPrisma, dropDatabase, ensureDatabase, migrate, SecretBox, withDatabase } from '@app/db';
import { DojoSandbox } from '@app/dojo-sandbox';
import type { Stack } from '@app/infra';
import { freePort } from '@app/infra';
import type { AppProcess } from './procs';
import { metricsText, sampleOf } from './metrics-text';
import { CpuMeter, monotonicUs, ServerCpuMeter, spawnApp, until, waitHealthy } from './procs';

export interface BenchSettings {
  quick: boolean;
  /** LOG_LEVEL of the apps under test. */
  logLevel: string;
  /** DB_POOL_SIZE of every app. */
  poolSize: number;
  workerConcurrency: number;
  /** EVENTS_CONCURRENCY of the workers (the apps' default when absent). */
  eventsConcurrency?: number;
  connectRate: number;
  /** DB_PREPARED_STATEMENTS of every app. */
  preparedStatements: boolean;
  /** DB_READ_LANES of every app (the apps' default when absent). */
  readLanes?: number;
  /** GATEWAY_READ_CACHE of the gateways (the apps' default when absent). */
  readCache?: boolean;
  /** DB_ANNOUNCE_AFTER_COMMIT of every app (the apps' default when absent). */
  announceAfterCommit?: boolean;
  /** RPC_TRANSPORT of the gateway and workers (default streams). */
  rpcTransport?: 'bullmq' | 'streams';
  /** Apps to run with node --cpu-prof (gateway, worker, webhook, gateway-inprocess). */
  profile: string[];
  /** Node or V8 flags of every app under test (to compare), given on each app's command line, so V8 flags NODE_OPTIONS refuses work too. */
  nodeOptions?: string;
  resultsDir: string;
  logDir: string;
}

/** Where the compiled apps live: <out>/apps/<app>/src/main.js next to <out>/bench. */
const DIST = join(__dirname, '..', '..');
const APP_MAIN = (name: string) => join(DIST, 'apps', name, 'src', 'main.js');

/**
 * Settings the apps under test take from the bench's own environment when it has them, so that a run can compare
 * one against its default: how the workers hand out requests, and how long the pools keep idle connections.
 */
const BENCH_PASSED_THROUGH = ['RPC_CONCENTRATE', 'RPC_HELP_AFTER_MS', 'DB_POOL_IDLE_TIMEOUT_MS'] as const;

/** One scenario's platform: its own database and queue prefix on the shared Postgres/Redis, and the app processes. */
export class Platform {
  readonly apps: AppProcess[] = [];
  readonly box: SecretBox;
  readonly encryptionKey = randomBytes(32).toString('hex');
  readonly prefix: string;
  prisma!: PrismaClient;
  databaseUrl = '';
  sandbox?: DojoSandbox;
  private databaseName = '';
  /** The copy keepSeed() made. */
  private seedName?: string;
  /**
   * Per CPU profile (its file name): where its summary starts (monotonicUs), so start-up is left out. Set when the
   * app answers /health, and again by markProfiles() at the end of a warm-up.
   */
  readonly profileFrom = new Map<string, number>();

  constructor(
    readonly stack: Stack,
    readonly settings: BenchSettings,
    readonly label: string,
  ) {
    this.box = new SecretBox(this.encryptionKey);
    this.prefix = `bench-${label}-${Date.now().toString(36)}`;
  }

  async init(): Promise<this> {
    this.databaseName = `bench_${this.label.replace(/[^a-z0-9]/gi, '_')}_${Date.now().toString(36)}`;
    this.databaseUrl = withDatabase(this.stack.databaseUrl, this.databaseName);
    await ensureDatabase(this.databaseUrl);
    await migrate(this.databaseUrl);
    this.connect();
    return this;
  }

  /** The bench's own client of the scenario's database (seeding, checks, clearing locks between runs). */
  private connect(): void {
    this.prisma = createPrisma(this.databaseUrl, { poolSize: 5 });
  }

  /**
   * Keeps a copy of the database as it is now (seeded, no app running), so that restoreSeed() can bring it back:
   * each variant then starts from the same rows. Without it a variant run later found the payments, stored answers
   * and events of every run before it (24,000 requests per variant), and paid for them in its reads.
   */
  async keepSeed(): Promise<void> {
    await this.prisma.$disconnect();
    this.seedName = `${this.databaseName}_seed`;
    await cloneDatabase(this.databaseUrl, this.databaseName, this.seedName);
    this.connect();
  }

  /** The database as keepSeed() left it (a fresh copy of that copy). Call it with no app running. */
  async restoreSeed(): Promise<void> {
    if (!this.seedName) throw new Error('restoreSeed() needs keepSeed() first');
    await this.prisma.$disconnect();
    await dropDatabase(this.databaseUrl, this.databaseName);
    await cloneDatabase(this.databaseUrl, this.seedName, this.databaseName);
    this.connect();
  }

  async startSandbox(accounts: number, prefix = 'bench'): Promise<DojoSandbox> {
    this.sandbox = await DojoSandbox.start({ port: 0, host: '127.0.0.1', callTimeoutMs: 10_000 });
    this.sandbox.addAccounts(accounts, { prefix, softwareHouseId: 'sh_bench', capabilities: ALL_CAPABILITIES });
    return this.sandbox;
  }

  env(extra: Record<string, string | number> = {}): NodeJS.ProcessEnv {
    const s = this.settings;
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      LOG_LEVEL: s.logLevel,
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.stack.appsRedisUrl,
      EPOS_RELAY_ENCRYPTION_KEY: this.encryptionKey,
      QUEUE_PREFIX: this.prefix,
      DB_POOL_SIZE: String(s.poolSize),
      WORKER_CONCURRENCY: String(s.workerConcurrency),
      ...(s.eventsConcurrency !== undefined ? { EVENTS_CONCURRENCY: String(s.eventsConcurrency) } : {}),
      GATEWAY_CONNECT_RATE: String(s.connectRate),
      DB_PREPARED_STATEMENTS: String(s.preparedStatements),
      ...(s.readLanes !== undefined ? { DB_READ_LANES: String(s.readLanes) } : {}),
      ...(s.readCache !== undefined ? { GATEWAY_READ_CACHE: String(s.readCache) } : {}),
      ...(s.announceAfterCommit !== undefined ? { DB_ANNOUNCE_AFTER_COMMIT: String(s.announceAfterCommit) } : {}),
      RPC_TRANSPORT: s.rpcTransport ?? 'streams',
      // The apps' defaults unless the bench is run with them set (to compare settings: BENCH_PASSED_THROUGH).
      ...Object.fromEntries(BENCH_PASSED_THROUGH.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
      ...(this.sandbox ? { DOJO_WS_URL: this.sandbox.wsUrl, DOJO_API_URL: this.sandbox.url } : {}),
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
    };
  }

  private spawn(name: string, script: string, env: NodeJS.ProcessEnv, profileAs: string, nodeArgs: string[] = []): AppProcess {
    const app = spawnApp({
      nodeArgs: [...(this.settings.nodeOptions?.split(/\s+/).filter(Boolean) ?? []), ...nodeArgs],
      name: `${this.label}-${name}`,
      script,
      env,
      logDir: this.settings.logDir,
      cpuProfDir: this.settings.profile.includes(profileAs) ? join(this.settings.resultsDir, 'profiles') : undefined,
    });
    this.apps.push(app);
    return app;
  }

  async startApp(app: 'gateway' | 'worker' | 'webhook' | 'admin', name: string = app, extra: Record<string, string | number> = {}, nodeArgs: string[] = []): Promise<AppProcess> {
    const port = await freePort();
    const p = this.spawn(name, APP_MAIN(app), this.env({ PORT: port, ...extra }), app, nodeArgs);
    p.url = `http://127.0.0.1:${port}`;
    await waitHealthy(p, p.url);
    if (p.profileFile) this.profileFrom.set(basename(p.profileFile), monotonicUs());
    return p;
  }

  /** The running apps' profiles are summarised from now on (called at the end of a warm-up: the figures of record's part). */
  markProfiles(): void {
    for (const a of this.apps) if (a.profileFile) this.profileFrom.set(basename(a.profileFile), monotonicUs());
  }

  /** The gateway variant that answers in its own process (RpcDispatcher.handle, no queue); its /metrics on PORT. */
  async startInProcessGateway(extra: Record<string, string | number> = {}): Promise<AppProcess> {
    const port = await freePort();
    const p = this.spawn('gateway-inprocess', join(DIST, 'bench', 'inprocess-gateway.js'), this.env({ PORT: port, ...extra }), 'gateway-inprocess');
    p.url = `http://127.0.0.1:${port}`;
    return p;
  }

  /**
   * The read cache's hits and misses so far (epos_relay_gateway_read_cache_reads_total at the app's /metrics), or
   * undefined when the app has no cache or does not answer.
   */
  async readCacheCounts(app: AppProcess): Promise<{ hits: number; misses: number } | undefined> {
    const text = await metricsText(app.url, 5_000);
    const count = (result: string) => sampleOf(text, `epos_relay_gateway_read_cache_reads_total{result="${result}"}`);
    const out = { hits: count('hit'), misses: count('miss') };
    return Number.isFinite(out.hits) && Number.isFinite(out.misses) ? out : undefined;
  }

  /** Waits until the sandbox sees one connection per account id. */
  async waitConnected(accountIds: string[], timeoutMs: number): Promise<boolean> {
    const sim = this.sandbox!;
    return until(() => sim.hub.totalConnections() >= accountIds.length && accountIds.every((a) => sim.connectionsFor(a) >= 1), timeoutMs, 100);
  }

  /** CPU of the given app processes plus Postgres and Redis over a window, in cores. */
  meter(pids: Record<string, number>): { end(): Record<string, number> } {
    const apps = new CpuMeter(pids).begin();
    const servers = new ServerCpuMeter(Number(new URL(this.stack.databaseUrl).port), Number(new URL(this.stack.redisUrl).port)).begin();
    return { end: () => ({ ...apps.end(), ...servers.end() }) };
  }

  async stopApps(): Promise<void> {
    for (const a of [...this.apps].reverse()) await a.stop();
    this.apps.length = 0;
  }

  async close(): Promise<void> {
    await this.stopApps();
    await this.sandbox?.close().catch(() => undefined); // best effort (teardown)
    await this.prisma?.$disconnect().catch(() => undefined); // best effort (teardown)
  }
}
