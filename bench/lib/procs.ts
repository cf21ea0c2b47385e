import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CLK_TCK = 100; // Linux USER_HZ

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

/** Resident set size of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU used by a set of processes over a window, as a share of one core (1.0 = one core busy). */
export class CpuMeter {
  private start = new Map<number, number>();
  private t0 = 0;
  constructor(private readonly pids: Record<string, number>) {}
  begin(): this {
    this.t0 = performance.now();
    for (const pid of Object.values(this.pids)) this.start.set(pid, cpuSeconds(pid));
    return this;
  }
  end(): Record<string, number> {
    const secs = (performance.now() - this.t0) / 1000;
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      out[name] = Math.round(((cpuSeconds(pid) - (this.start.get(pid) ?? 0)) / Math.max(secs, 0.001)) * 1000) / 1000;
    }
    return out;
  }
}

export interface AppProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  url?: string;
  /** The .cpuprofile this process writes when it exits (run with --cpu-prof). */
  profileFile?: string;
  stop(): Promise<void>;
}

/** An app's name without its scenario's label (`path-worker1` -> `worker1`): how figures name the process. */
export function appLabel(app: Pick<AppProcess, 'name'>): string {
  return app.name.replace(/^[^-]+-/, '');
}

export interface SpawnOptions {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Write a V8 CPU profile into this folder when the process exits. */
  cpuProfDir?: string;
  /** Extra node flags. */
  nodeArgs?: string[];
}

/** Starts a Node child process with its output in <logDir>/<name>.log. */
export function spawnApp(o: SpawnOptions): AppProcess {
  mkdirSync(o.logDir, { recursive: true });
  const log = createWriteStream(join(o.logDir, `${o.name}.log`), { flags: 'a' });
  const profileName = `${o.name}-${Date.now()}.cpuprofile`;
  const args = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=${profileName}`] : [];
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const child = spawn(process.execPath, [...args, ...(o.nodeArgs ?? []), o.script], { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const app: AppProcess = {
    name: o.name,
    child,
    pid: child.pid!,
    ...(o.cpuProfDir ? { profileFile: join(o.cpuProfDir, profileName) } : {}),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
  return app;
}

export async function waitHealthy(app: AppProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (app.child.exitCode !== null) throw new Error(`${app.name} exited with code ${app.child.exitCode} (see its log)`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${app.name} did not become healthy within ${timeoutMs} ms`);
    await sleep(150);
  }
}

/**
 * Now on the clock of a V8 CPU profile's timestamps (CLOCK_MONOTONIC in µs, as process.hrtime: the same in every
 * process of the machine), so a moment of the bench can be found in an app's profile.
 */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passes; returns whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}

/** /proc/<pid>/<file> ('' when the process, or the thread of a `<pid>/task/<tid>`, has ended). */
export function readProc(pid: string, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** The Postgres server listening on `port` (postmaster and its children) and the redis-server on `redisPort`. */
export function serverPids(pgPort: number, redisPort: number): { postgres: number[]; redis: number[] } {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const cmd = new Map(all.map((p) => [p, readProc(p, 'cmdline').split('\0').join(' ')]));
  const postmaster = all.find((p) => /\bpostgres\b/.test(cmd.get(p)!) && new RegExp(`-p ${pgPort}\\b`).test(cmd.get(p)!));
  const redis = all.filter((p) => /redis-server/.test(cmd.get(p)!) && cmd.get(p)!.includes(`:${redisPort}`) || (/redis-server/.test(cmd.get(p)!) && cmd.get(p)!.includes(`--port ${redisPort}`)));
  const postgres: number[] = [];
  if (postmaster) {
    postgres.push(Number(postmaster));
    for (const p of all) {
      const stat = readProc(p, 'stat');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (ppid === postmaster) postgres.push(Number(p));
    }
  }
  return { postgres, redis: redis.map(Number) };
}

/** CPU of Postgres (all its processes) and Redis over a window, in cores. */
export class ServerCpuMeter {
  private t0 = 0;
  private start = new Map<number, number>();
  constructor(
    private readonly pgPort: number,
    private readonly redisPort: number,
  ) {}
  begin(): this {
    this.t0 = performance.now();
    const { postgres, redis } = serverPids(this.pgPort, this.redisPort);
    for (const pid of [...postgres, ...redis]) this.start.set(pid, cpuSeconds(pid));
    return this;
  }
  end(): { postgres: number; redis: number } {
    const secs = Math.max(0.001, (performance.now() - this.t0) / 1000);
    const { postgres, redis } = serverPids(this.pgPort, this.redisPort);
    // A process seen at the start counts from there; one that started during the window (a new backend) counts
    // its whole CPU time. (Each process once: the sum over new backends used to be added on top of a sum that
    // already held them.)
    const sum = (pids: number[]) => pids.reduce((a, pid) => a + cpuSeconds(pid) - (this.start.get(pid) ?? 0), 0);
    const r = (x: number) => Math.round((x / secs) * 1000) / 1000;
    return { postgres: r(sum(postgres)), redis: r(sum(redis)) };
  }
}

/** CPU ms per request of the platform's processes (apps, Postgres, Redis; not the load generator), as a number. */
export function platformCpuMs(cpu: Record<string, number>, rate: number): number {
  const cores = Object.entries(cpu).filter(([k]) => !/sandbox|sender/.test(k)).reduce((a, [, v]) => a + v, 0);
  return rate > 0 ? (cores / rate) * 1000 : NaN;
}
