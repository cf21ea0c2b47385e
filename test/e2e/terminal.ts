import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';

/**
 * A process started the way a terminal starts a command: the leader of its own
 * process group, so that `ctrlC` reaches it and every descendant that did not
 * leave the group (a terminal's Ctrl-C sends SIGINT to the whole foreground group).
 */
export interface TerminalProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGINT to the whole process group, as Ctrl-C in a terminal. */
  ctrlC(): void;
  /** SIGHUP to the whole process group, as a terminal that is closed hangs up its jobs. */
  hangUp(): void;
  /** SIGKILL to the group while its leader lives (test cleanup). */
  kill(): void;
}

export function spawnInTerminal(file: string, env: NodeJS.ProcessEnv): TerminalProcess {
  const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const group = (signal: NodeJS.Signals) => {
    // Only while the leader lives: once it has exited, its pid (and so the group id) may be reused
    // by someone else's process (pid_max is 32768 here).
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, signal);
    } catch {
      /* the group is gone */
    }
  };
  return { child, output: () => out, exited, ctrlC: () => group('SIGINT'), hangUp: () => group('SIGHUP'), kill: () => group('SIGKILL') };
}

/** Ctrl-C, then the exit code and how long the exit took. */
export async function pressCtrlC(
  p: TerminalProcess,
  opts: { forwardedByNpm?: boolean } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; seconds: number }> {
  const t0 = Date.now();
  p.ctrlC();
  // npm run-script forwards the SIGINT it got from the terminal to its child (`exec node ...`).
  if (opts.forwardedByNpm) setTimeout(() => p.child.kill('SIGINT'), 20);
  return exitAfter(p, t0, 'Ctrl-C');
}

/** The terminal closed (a hang-up), then the exit code and how long the exit took. */
export async function closeTerminal(p: TerminalProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; seconds: number }> {
  const t0 = Date.now();
  p.hangUp();
  return exitAfter(p, t0, 'the hang-up');
}

async function exitAfter(p: TerminalProcess, t0: number, what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; seconds: number }> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit 30 s after ${what}:\n${p.output()}`)), 30_000).unref());
  const { code, signal, at } = await Promise.race([p.exited, timeout]);
  return { code, signal, seconds: (at - t0) / 1000 };
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Every port closed, retrying briefly (a process that exited may take a moment to release its socket). */
export async function assertPortsClosed(ports: Record<string, number>, context: string): Promise<void> {
  for (let i = 0; ; i++) {
    const open: string[] = [];
    for (const [name, port] of Object.entries(ports)) if (await portOpen(port)) open.push(`${name} (${port})`);
    if (open.length === 0) return;
    if (i >= 10) assert.fail(`still listening: ${open.join(', ')}\n${context}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Processes whose group is `pgid` or whose command line contains one of `patterns`. */
export function processesLeft(pgid: number, patterns: string[]): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => {
      const [, g] = l.split(/\s+/, 3);
      return l && (Number(g) === pgid || patterns.some((p) => l.includes(p))) && !l.includes('ps -eo');
    });
}

/** The local Postgres and Redis ports that `npm start` printed. */
export function stackPorts(out: string): Record<string, number> {
  const ports: Record<string, number> = {};
  const pg = /postgres \(local\) at postgresql:\/\/[^@]+@127\.0\.0\.1:(\d+)\//.exec(out);
  const redis = /redis \(local\) at redis:\/\/127\.0\.0\.1:(\d+)/.exec(out);
  if (pg) ports.postgres = Number(pg[1]);
  if (redis) ports.redis = Number(redis[1]);
  return ports;
}

/** The ports of npm start's five apps. */
export interface AppPorts {
  admin: number;
  gateway: number;
  worker: number;
  webhook: number;
  sandbox: number;
}

/**
 * npm start's environment in a test: PATH and HOME, the apps' ports, warn-level logs, then `extra` (which wins). Nothing
 * else of the test runner's environment leaks in.
 */
export function startEnv(ports: AppPorts, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ADMIN_PORT: String(ports.admin),
    GATEWAY_PORT: String(ports.gateway),
    WORKER_PORT: String(ports.worker),
    WEBHOOK_PORT: String(ports.webhook),
    SANDBOX_PORT: String(ports.sandbox),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}
