/**
 * A real PgBouncer (Debian's `pgbouncer`) in transaction pooling mode in front
 * of the test Postgres, for the tests that check the platform works through it.
 * Every database name is forwarded (the `*` fallback), so a test database URL
 * is turned into one through PgBouncer by swapping the port.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild, waitForPort } from '@app/infra';

const BINARIES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'];

export function findPgBouncer(): string | undefined {
  return BINARIES.find((b) => existsSync(b));
}

export class PgBouncerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
    private readonly stderr: string[],
  ) {}

  /** `serverUrl`: the Postgres server (any database); `poolSize`: server connections per database and user. */
  static async start(serverUrl: string, poolSize = 20): Promise<PgBouncerProcess> {
    const bin = findPgBouncer();
    if (!bin) throw new Error('pgbouncer is not installed (Debian: apt-get install -y pgbouncer)');
    const server = new URL(serverUrl);
    const user = decodeURIComponent(server.username);
    const password = decodeURIComponent(server.password);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'epos-pgbouncer-'));
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    writeFileSync(join(dir, 'users.txt'), `${q(user)} ${q(password)}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = host=${server.hostname} port=${server.port || 5432}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        `unix_socket_dir =`,
        'auth_type = plain',
        `auth_file = ${join(dir, 'users.txt')}`,
        'pool_mode = transaction',
        `default_pool_size = ${poolSize}`,
        'max_client_conn = 1000',
        // What the platform's pg pools send at connect; PgBouncer refuses unknown startup parameters otherwise.
        'ignore_startup_parameters = extra_float_digits,options,statement_timeout,idle_in_transaction_session_timeout',
        'logfile =',
        'log_connections = 0',
        'log_disconnections = 0',
        '',
      ].join('\n'),
    );
    // PgBouncer refuses to run as root: as root, run it as the postgres user (which the test Postgres also runs as).
    let ids: { uid: number; gid: number } | undefined;
    if (typeof process.getuid === 'function' && process.getuid() === 0) {
      const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
      ids = { uid: id('-u'), gid: id('-g') };
      chmodSync(dir, 0o700);
      for (const f of ['', 'users.txt', 'pgbouncer.ini']) chownSync(join(dir, f), ids.uid, ids.gid);
    }
    const stderr: string[] = [];
    const child = spawn(bin, [join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'], ...(ids ?? {}) });
    child.stdout?.on('data', (d) => stderr.push(String(d)));
    child.stderr?.on('data', (d) => stderr.push(String(d)));
    const p = new PgBouncerProcess(child, port, dir, stderr);
    try {
      await waitForPort(port, '127.0.0.1', 10_000);
    } catch (err) {
      await p.stop();
      throw new Error(`pgbouncer did not start: ${stderr.join('')}`, { cause: err });
    }
    return p;
  }

  /** The same database, reached through PgBouncer. */
  via(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    // The local Postgres' URL names its Unix socket (?host=): PgBouncer is reached over TCP.
    u.searchParams.delete('host');
    return u.toString();
  }

  /** What PgBouncer logged (errors, refused startup parameters). */
  get log(): string {
    return this.stderr.join('');
  }

  async stop(): Promise<void> {
    await stopChild(this.child, [['SIGTERM', 3_000], ['SIGKILL', 2_000]]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
