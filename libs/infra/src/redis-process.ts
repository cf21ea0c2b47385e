import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usableSocketPath } from './paths';
import { freePort, waitForPort } from './ports';
import { stopChild } from './child';

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];

export function findRedisServer(): string | undefined {
  for (const c of CANDIDATES) if (existsSync(c)) return c;
  try {
    const out = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

/** Installs redis-server with apt on Debian-like systems when running as root. */
export function installRedisWithApt(log: (msg: string) => void): boolean {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) return false;
  log('redis-server not found: installing it with apt-get (set EPOS_RELAY_NO_APT=1 to forbid this)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'ignore', env, timeout: 600_000 });
  } catch (err) {
    log(`apt-get install redis-server failed: ${(err as Error).message}`);
    return false;
  }
  return findRedisServer() !== undefined;
}

/**
 * A redis-server child process on a loopback port, without persistence. Can be stopped and restarted on the same port.
 * It also listens on a Unix socket in the temp dir (socketUrl), which costs each side less CPU per command than
 * loopback TCP; `url` (TCP) stays for tools, proxies and tests.
 */
export class RedisProcess {
  private child?: ChildProcess;
  private constructor(
    private readonly binary: string,
    readonly port: number,
  ) {}

  static async start(binary: string, port?: number): Promise<RedisProcess> {
    const p = new RedisProcess(binary, port ?? (await freePort()));
    await p.start();
    return p;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** REDIS_URL over the Unix socket (redis+unix://), or undefined when the temp dir's path is too long for one. */
  get socketUrl(): string | undefined {
    return this.socketPath ? `redis+unix://${this.socketPath}` : undefined;
  }

  private get socketPath(): string | undefined {
    const path = join(tmpdir(), `epos-relay-redis-${this.port}.sock`);
    return usableSocketPath(path) ? path : undefined;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      this.binary,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no',
        '--maxmemory-policy', 'noeviction', '--loglevel', 'warning',
        ...(this.socketPath ? ['--unixsocket', this.socketPath, '--unixsocketperm', '700'] : [])],
      // Its own process group: a terminal's Ctrl-C must not stop it under the apps that still use it.
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    this.child = child;
    const exitHook = () => {
      // This process is exiting without having stopped Redis: stop it too.
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    };
    process.once('exit', exitHook);
    child.once('exit', () => process.removeListener('exit', exitHook));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    try {
      await waitForPort(this.port, '127.0.0.1', 15_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${this.port}: ${stderr || (err as Error).message}`, { cause: err });
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    // Bounded, also when it already died from a signal (exitCode stays null then; signalCode is set).
    await stopChild(child, [['SIGTERM', 3000], ['SIGKILL', 2000]], { group: true });
  }
}
