/**
 * Wake-ups and CPU per request, by process and thread: starts a variant of the payment mix, warms it up, then runs
 * the mix at one rate and reads every platform thread's scheduler counters before and after
 * (/proc/<pid>/task/<tid>/schedstat: CPU time, and how many times the thread was put on a CPU). On a VM where waking
 * a process costs more than its work (docs/performance.md, "Where the CPU goes"), a change that takes out a hop shows
 * here as fewer runs per request even when whole runs of the bench cannot tell it from the machine's drift.
 * `node dist/bench/diagnostics/wakeups-per-request.js [rate] [seconds] [variant] [warm-up rate] [warm-up seconds] [workers] [profile]`
 * (defaults 200, 10, queue, 1000, 10, 1, none; variant: queue | reads-queued | in-process; workers: the worker processes of a
 * variant that has them; profile: the apps that write CPU profiles, e.g. `gateway,worker`, whole runs from start to stop;
 * DATABASE_URL / REDIS_URL optional, as for the bench). Linux only (it reads /proc).
 */
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { metricsText } from '../lib/metrics-text';
import type { AppProcess } from '../lib/procs';
import { appLabel, readProc, serverPids } from '../lib/procs';
import { runMix } from '../scenarios/mix';
import { ORDERS_PER_LOCATION } from '../scenarios/request-path';
import { diagnosticVariant, withMixVariant } from './mix-variant';

/** One thread's counters: CPU time (ns) and the times it was run. */
interface ThreadCounters {
  cpuNs: number;
  runs: number;
  main: boolean;
}

/** Every thread of `pid`, by thread id. */
function threadsOf(pid: number): Map<number, ThreadCounters> {
  const out = new Map<number, ThreadCounters>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const [cpuNs, , runs] = readProc(`${pid}/task/${tid}`, 'schedstat').trim().split(' ').map(Number);
    if (cpuNs === undefined || runs === undefined || !Number.isFinite(cpuNs)) continue;
    out.set(Number(tid), { cpuNs, runs, main: Number(tid) === pid });
  }
  return out;
}

type Snapshot = Map<string, Map<number, ThreadCounters>>;

/** The counters of every thread of every process of each group (a group: one app, or all of Postgres, or Redis). */
function snapshot(groups: Record<string, number[]>): Snapshot {
  const out: Snapshot = new Map();
  for (const [group, pids] of Object.entries(groups)) {
    const threads = new Map<number, ThreadCounters>();
    for (const pid of pids) for (const [tid, c] of threadsOf(pid)) threads.set(tid, c);
    out.set(group, threads);
  }
  return out;
}

interface GroupDelta {
  mainCpuMs: number;
  mainRuns: number;
  otherCpuMs: number;
  otherRuns: number;
}

/** What each group's threads did between two snapshots (a thread that started in between counts from zero). */
function delta(before: Snapshot, after: Snapshot): Map<string, GroupDelta> {
  const out = new Map<string, GroupDelta>();
  for (const [group, threads] of after) {
    const d: GroupDelta = { mainCpuMs: 0, mainRuns: 0, otherCpuMs: 0, otherRuns: 0 };
    for (const [tid, c] of threads) {
      const b = before.get(group)?.get(tid);
      const cpuMs = (c.cpuNs - (b?.cpuNs ?? 0)) / 1e6;
      const runs = c.runs - (b?.runs ?? 0);
      if (c.main) {
        d.mainCpuMs += cpuMs;
        d.mainRuns += runs;
      } else {
        d.otherCpuMs += cpuMs;
        d.otherRuns += runs;
      }
    }
    out.set(group, d);
  }
  return out;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

/**
 * Who each Postgres process is: a backend's application_name (`epos-relay/worker1`, `epos-relay announcer`, ...), or
 * its backend type (walwriter, checkpointer, autovacuum worker, ...); the postmaster is not in pg_stat_activity.
 */
async function postgresRoles(databaseUrl: string): Promise<Map<number, string>> {
  const c = new pg.Client({ connectionString: databaseUrl, application_name: 'wakeups-per-request' });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number; who: string }>(
      "SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS who FROM pg_stat_activity",
    );
    return new Map(rows.map((r) => [r.pid, r.who]));
  } finally {
    await c.end();
  }
}

/** Postgres' CPU and runs by role over the window (a backend that ended before the end counts as `gone`). */
function postgresByRole(before: Snapshot, after: Snapshot, roles: Map<number, string>): Map<string, { cpuMs: number; runs: number }> {
  const out = new Map<string, { cpuMs: number; runs: number }>();
  for (const [tid, c] of after.get('postgres') ?? []) {
    const b = before.get('postgres')?.get(tid);
    const who = roles.get(tid) ?? (b ? 'postmaster or gone' : 'new, gone');
    const r = out.get(who) ?? { cpuMs: 0, runs: 0 };
    r.cpuMs += (c.cpuNs - (b?.cpuNs ?? 0)) / 1e6;
    r.runs += c.runs - (b?.runs ?? 0);
    out.set(who, r);
  }
  return out;
}

/** RPC jobs each worker process has run so far and their seconds (epos_relay_worker_job_duration_seconds, every method). */
async function rpcJobsByWorker(apps: AppProcess[]): Promise<Map<string, { jobs: number; seconds: number }>> {
  const out = new Map<string, { jobs: number; seconds: number }>();
  for (const a of apps.filter((x) => /^worker/.test(appLabel(x)))) {
    const text = await metricsText(a.url, 5_000);
    const total = (part: 'count' | 'sum') =>
      [...text.matchAll(new RegExp(`^epos_relay_worker_job_duration_seconds_${part}\\{[^}]*queue="epos-rpc"[^}]*\\} (\\S+)$`, 'gm'))].reduce((t, m) => t + Number(m[1]), 0);
    out.set(appLabel(a), { jobs: total('count'), seconds: total('sum') });
  }
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const rate = Number(args[0] ?? 200);
  const seconds = Number(args[1] ?? 10);
  const warmRate = Number(args[3] ?? 1000);
  const warmSeconds = Number(args[4] ?? 10);
  const workers = Number(args[5] ?? 1);
  const profile = (args[6] ?? '').split(',').filter(Boolean);
  if (!(rate > 0) || !(seconds > 0)) throw new Error('rate and seconds must be positive numbers');
  if (!Number.isInteger(workers) || workers < 1) throw new Error('workers must be a whole number of at least 1');
  if (process.platform !== 'linux') throw new Error('this diagnostic reads /proc (Linux only)');
  await withMixVariant('wakeups-per-request', diagnosticVariant(args[2]), async ({ stack, p, variant, accountIds, pids, apps }) => {
    if (warmRate > 0 && warmSeconds > 0) {
      const w = await runMix(p, accountIds, warmRate, warmSeconds * 1000, { ordersPerLocation: ORDERS_PER_LOCATION });
      console.log(`warm-up: ${w.sent} requests at ${warmRate}/s (errors ${w.errors}), unmeasured`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const pgPort = Number(new URL(stack.databaseUrl).port);
    const redisPort = Number(new URL(stack.redisUrl).port);
    // Postgres' backends come and go with the pools: the processes are looked up again at the end.
    const groups = () => ({ ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, [pid]])), ...serverPids(pgPort, redisPort) });
    const start = groups();
    if (start.postgres.length === 0) console.log('(no local Postgres process found: a given DATABASE_URL is not counted)');
    if (start.redis.length === 0) console.log('(no local redis-server found: a given REDIS_URL is not counted)');
    const jobsBefore = await rpcJobsByWorker(apps);
    const before = snapshot(start);
    const r = await runMix(p, accountIds, rate, seconds * 1000, { ordersPerLocation: ORDERS_PER_LOCATION });
    const after = snapshot(groups());
    const jobsAfter = await rpcJobsByWorker(apps);
    const roles = await postgresRoles(stack.databaseUrl);
    // Per request sent, as the bench's CPU per request (cores over the achieved rate).
    const n = Math.max(1, r.sent);
    console.log(`${variant}${workers > 1 ? `, ${workers} workers,` : ''} at ${rate}/s for ${seconds} s: ${r.sent} requests (errors ${r.errors}), p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
    // CPU ms: all the group's threads. Runs: times a thread was put on a CPU (each wake-up, and each return after
    // being preempted). Postgres forks a process per connection: each counts as a main thread. Redis' main thread is
    // its event loop, its other threads its background jobs.
    console.log(`per request:         ${pad('CPU ms', 8)} ${pad('main thread runs', 17)} ${pad('µs a run', 9)} ${pad('other threads CPU ms', 21)} ${pad('runs', 6)}`);
    let cpu = 0;
    let runs = 0;
    for (const [group, d] of delta(before, after)) {
      const groupCpu = d.mainCpuMs + d.otherCpuMs;
      cpu += groupCpu;
      runs += d.mainRuns + d.otherRuns;
      console.log(
        `  ${group.padEnd(18)} ${pad((groupCpu / n).toFixed(3), 8)} ${pad((d.mainRuns / n).toFixed(2), 17)} ${pad(d.mainRuns ? Math.round((d.mainCpuMs * 1000) / d.mainRuns) : 0, 9)} ${pad((d.otherCpuMs / n).toFixed(3), 21)} ${pad((d.otherRuns / n).toFixed(2), 6)}`,
      );
    }
    console.log(`  ${'all'.padEnd(18)} ${pad((cpu / n).toFixed(3), 8)} ${pad((runs / n).toFixed(2), 17)} (runs of every thread)`);
    // With several workers: how the requests were shared (RPC_CONCENTRATE, RPC_HELP_AFTER_MS).
    if (jobsAfter.size > 1) {
      const ran = [...jobsAfter].map(([w, c]) => {
        const jobs = c.jobs - (jobsBefore.get(w)?.jobs ?? 0);
        const ms = ((c.seconds - (jobsBefore.get(w)?.seconds ?? 0)) * 1000) / Math.max(1, jobs);
        return `${w} ${jobs} (${ms.toFixed(2)} ms a job from pick-up to reply)`;
      });
      console.log(`RPC jobs run by each worker: ${ran.join(', ')}`);
    }
    // Postgres by role: whose backends its share goes to (the pools' connections are named after their app).
    console.log(`postgres by role, per request: ${pad('CPU ms', 8)} ${pad('runs', 6)} ${pad('µs a run', 9)}`);
    const byRole = [...postgresByRole(before, after, roles)].filter(([, r]) => r.runs > 0).sort((a, b) => b[1].cpuMs - a[1].cpuMs);
    for (const [who, r] of byRole) {
      console.log(`  ${who.slice(0, 28).padEnd(29)} ${pad((r.cpuMs / n).toFixed(3), 8)} ${pad((r.runs / n).toFixed(2), 6)} ${pad(Math.round((r.cpuMs * 1000) / r.runs), 9)}`);
    }
  }, workers, profile);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
