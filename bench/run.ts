/**
 * `npm run bench [-- <scenario> ...] [--quick] [options]`: benchmarks of the
 * whole platform on this machine, with the Dojo sandbox simulator as Dojo.
 * Prints tables and writes every figure to bench/results/<time>.json.
 *
 * Scenarios (default: all, in this order): request-path, throughput, connections, webhook.
 * Options:
 *   --quick                 about a minute in all (shorter runs, fewer steps, 2,000 idle venues)
 *   --locations N           venues of request-path and throughput (default 500; quick 200)
 *   --rates 200,1000        offered rates of request-path
 *   --variants a,b          request-path variants to run, in turn (default all): queue, reads-queued, in-process, tables
 *   --rounds N              request-path: run the variants N times, alternating (default 1), to compare them on a noisy machine
 *   --duration-ms N         length of each request-path run (default 10000)
 *   --warmup-ms N           request-path: each variant's fresh processes first serve one measured run at the lowest
 *                          rate (shown as "fresh"), then N ms of the same load at 1,000/s (or the highest rate),
 *                          unmeasured, then the measured runs of record; throughput: N ms at 1,000/s before the ramp
 *                          (default 10000; quick 2000; 0 skips the warm-up)
 *   --max-in-flight N       request-path: at most N requests awaiting a reply; the rest of the offered rate is skipped,
 *                          so a high rate becomes a closed loop of N (CPU per request then barely depends on other load)
 *   --connections N         idle venues of the connections scenario (default 5000; 10000 works)
 *   --webhook-rates 500,1000,2000,3000   (with the events worker running); --ingest-only-rates 3000 (before it starts)
 *   --ceiling-rates 100,200,...  the throughput ramp; --step-ms N its step length; --workers 1,2
 *   --single-steps          the ramp stops at the first step over the p99 limit (default: such a step is run once
 *                          more and stops the ramp only if it misses again; errors always stop it at once)
 *   --log-level warn        LOG_LEVEL of the apps (default warn; info logs every request)
 *   --pool-size N           DB_POOL_SIZE of every app (default 10)
 *   --worker-concurrency N  WORKER_CONCURRENCY (default 50)
 *   --events-concurrency N  EVENTS_CONCURRENCY of the workers (default: the apps' own, 10)
 *   --connect-rate N        GATEWAY_CONNECT_RATE (default 200)
 *   --prepared-statements true|false   DB_PREPARED_STATEMENTS of every app (default true: no pooler in between)
 *   --read-lanes N          DB_READ_LANES of every app (default: the apps' own, 4; 0 sends each read on its own)
 *   --read-cache true|false GATEWAY_READ_CACHE of the gateways (default: the apps' own, true)
 *   --announce-after-commit true|false   DB_ANNOUNCE_AFTER_COMMIT of every app (default: the apps' own, true)
 *   --node-options '<flags>'  Node/V8 flags on the command line of every app under test (e.g. --single-threaded-gc; default none)
 *   --rpc-transport bullmq|streams     RPC_TRANSPORT of the gateway and workers (default streams)
 *   --profile [gateway,worker,webhook,gateway-inprocess]   run those (alone: all of them) with node --cpu-prof; the
 *                          .cpuprofile files go to bench/results/<time>/profiles (open them in Chrome DevTools or
 *                          speedscope), and the top self time and the share per package are printed (from the end
 *                          of the warm-up, or from the app's first healthy answer: start-up is left out of the summary,
 *                          not out of the file)
 *   --heap-snapshot         connections: V8 heap snapshots of the gateway before/after, growth per connection by constructor
 *   --pg-stats              the local Postgres runs with pg_stat_statements (planning timed too); after each scenario its
 *                          costliest statements (execution plus planning, seeding included) are printed and written to
 *                          bench/results/<time>/<scenario>-statements.txt and the JSON. Its own overhead is in the figures
 * Postgres/Redis: DATABASE_URL / REDIS_URL when set, else started like `npm start` does. RPC_CONCENTRATE,
 * RPC_HELP_AFTER_MS and DB_POOL_IDLE_TIMEOUT_MS, when set, go to the apps under test (to compare a setting with its default).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Stack } from '@app/infra';
import { repoRoot, startStack } from '@app/infra';
import { writeCharts } from './lib/bench-charts';
import type { WakeupCost } from './lib/wakeup';
import { wakeupCost } from './lib/wakeup';
import { selfTimeByPackage, topSelfTime } from './lib/cpuprofile';
import { machineFacts } from './lib/machine';
import type { StatementStats } from './lib/pg-stats';
import { resetStatementStats, statementsTable, topStatements } from './lib/pg-stats';
import type { BenchSettings } from './lib/platform';
import { Platform } from './lib/platform';
import { platformCpuMs } from './lib/procs';
import { kb, ms, table } from './lib/table';
import type { ConnectionsResult } from './scenarios/connections';
import { connections } from './scenarios/connections';
import type { RequestPathResult, VariantKey } from './scenarios/request-path';
import { REQUEST_PATH_VARIANTS, requestPath, WARM_UP } from './scenarios/request-path';
import type { ThroughputResult } from './scenarios/throughput';
import { throughput } from './scenarios/throughput';
import type { WebhookResult } from './scenarios/webhook';
import { webhook } from './scenarios/webhook';

const SCENARIOS = ['request-path', 'throughput', 'connections', 'webhook'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** The Node processes --profile can run with --cpu-prof (Postgres and Redis are not Node: their CPU is in the tables). */
const PROFILED = ['gateway', 'worker', 'webhook', 'gateway-inprocess'];
/** How many of a scenario's costliest statements --pg-stats keeps (the ten first are printed). */
const STATEMENTS_KEPT = 25;

const VALUE_OPTIONS = [
  'locations', 'rates', 'duration-ms', 'warmup-ms', 'max-in-flight', 'connections', 'webhook-rates', 'ingest-only-rates', 'ceiling-rates', 'step-ms',
  'variants', 'rounds', 'workers', 'log-level', 'node-options', 'pool-size', 'worker-concurrency', 'events-concurrency', 'connect-rate', 'prepared-statements', 'read-lanes', 'read-cache', 'announce-after-commit', 'rpc-transport', 'profile', 'idle-ms', 'ping-interval-ms',
  'webhook-duration-ms', 'webhook-locations',
];

function usage(): string {
  return [
    'usage: npm run bench [-- <scenario> ...] [--quick] [--heap-snapshot] [--pg-stats] [--<option> <value> ...]',
    `scenarios: ${SCENARIOS.join(', ')} (default: all)`,
    `options with a value: ${VALUE_OPTIONS.map((o) => `--${o}`).join(', ')}`,
    'details: the header of bench/run.ts and docs/performance.md',
  ].join('\n');
}

function parseArgs(argv: string[]) {
  const opts: Record<string, string> = {};
  const names: Scenario[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (a === '--quick') opts.quick = '1';
    else if (a === '--heap-snapshot') opts['heap-snapshot'] = '1';
    else if (a === '--single-steps') opts['single-steps'] = '1';
    else if (a === '--pg-stats') opts['pg-stats'] = '1';
    // --profile alone: every Node process of the scenario (a list after it picks some).
    else if (a === '--profile' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--') || (SCENARIOS as readonly string[]).includes(argv[i + 1]!))) opts.profile = PROFILED.join(',');
    else if (a.startsWith('--')) {
      const [k, v] = a.includes('=') ? a.slice(2).split('=', 2) : [a.slice(2), argv[++i]];
      if (!VALUE_OPTIONS.includes(k)) throw new Error(`unknown option --${k}\n${usage()}`);
      if (v === undefined) throw new Error(`${a} needs a value`);
      opts[k] = v;
    } else if ((SCENARIOS as readonly string[]).includes(a)) names.push(a as Scenario);
    else throw new Error(`unknown scenario "${a}"; choose from ${SCENARIOS.join(', ')}`);
  }
  return { names: names.length ? names : [...SCENARIOS], opts };
}

const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);

/** --variants: request-path's variants by name (all when not given); an unknown name stops the bench. */
function variantsOf(v: string | undefined): VariantKey[] | undefined {
  if (!v) return undefined;
  const names = v.split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = names.filter((n) => !Object.prototype.hasOwnProperty.call(REQUEST_PATH_VARIANTS, n));
  if (unknown.length) throw new Error(`--variants: unknown ${unknown.join(', ')}; known: ${Object.keys(REQUEST_PATH_VARIANTS).join(', ')}`);
  return names as VariantKey[];
}

/** Issue 15's goals (docs/performance.md); the rates they are judged at. */
const GOALS = {
  cpuRate: 200,
  queueCpuMs: 1.5,
  inProcessCpuMs: 1.0,
  p50Ratio: 1.5,
  ceilingRate: 1_000,
  bytesPerConnection: 16 * 1024,
  reconnectMs: 60_000,
  webhookRate: 2_500,
  webhookP99Rate: 1_000,
  webhookP99: 50,
};

interface Goal {
  goal: string;
  measured: string;
  target: string;
  met: boolean;
  miss?: string;
}

function evaluate(results: Record<string, unknown>): Goal[] {
  const goals: Goal[] = [];
  const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(0)}%`;
  const rp = results['request-path'] as RequestPathResult | undefined;
  if (rp) {
    for (const r of rp.runs) {
      // Every variant through the queue (EPOS Data, the Tables API) has the queue's limit; only in-process has its own.
      const limit = r.variant.startsWith('queue') ? GOALS.queueCpuMs : GOALS.inProcessCpuMs;
      const v = platformCpuMs(r.cpu, r.achieved);
      // `queue, reads queued` (GATEWAY_READS=queue) is not the platform as deployed (reads are answered by the
      // gateway by default): it is shown, to size what that saves, as docs/performance.md's tables show it.
      const shownOnly = r.fresh === true || r.variant === REQUEST_PATH_VARIANTS['reads-queued'];
      const judged = r.offered === GOALS.cpuRate && !shownOnly;
      const met = v <= limit && r.errors === 0;
      goals.push({
        goal: `CPU per request, ${r.variant} @ ${r.offered}/s${r.fresh ? ', fresh processes before the warm-up' : ''} (all processes)`,
        measured: `${ms(v)} ms${r.errors ? `, ${r.errors} errors` : ''}`,
        target: judged ? `<= ${limit} ms` : shownOnly ? '(shown)' : '(shown, judged at 200/s)',
        met: judged ? met : true,
        miss: !judged || met ? undefined : `over by ${ms(v - limit)} ms (${pct(v, limit)})`,
      });
    }
    const r = rp.ratios.find((x) => x.offered === GOALS.cpuRate);
    if (r) {
      const met = r.p50 <= GOALS.p50Ratio;
      goals.push({ goal: `queue / in-process p50 @ ${r.offered}/s`, measured: `${r.p50}x (+${ms(r.p50DeltaMs)} ms)`, target: `<= ${GOALS.p50Ratio}x`, met, miss: met ? undefined : `over by ${(r.p50 - GOALS.p50Ratio).toFixed(2)}x` });
    }
  }
  const tp = results.throughput as ThroughputResult | undefined;
  if (tp) {
    for (const c of tp.ceilings) {
      const met = c.highestCleanRate >= GOALS.ceilingRate;
      goals.push({ goal: `throughput ceiling (p99 <= ${tp.p99LimitMs} ms, no errors), ${c.workers} worker(s)`, measured: `${c.highestCleanRate}/s`, target: `>= ${GOALS.ceilingRate}/s`, met, miss: met ? undefined : `short by ${GOALS.ceilingRate - c.highestCleanRate}/s (${pct(c.highestCleanRate, GOALS.ceilingRate)})` });
    }
    const one = tp.ceilings.find((c) => c.workers === 1);
    for (const c of tp.ceilings.filter((x) => x.workers > 1 && one)) {
      // With no clean step in either ramp there is nothing to compare: "0 against 0" is not a result.
      const met = c.highestCleanRate > 0 && c.highestCleanRate >= one!.highestCleanRate;
      const miss = c.highestCleanRate === 0 ? 'no clean step in the ramp' : `short by ${one!.highestCleanRate - c.highestCleanRate}/s`;
      goals.push({ goal: `${c.workers} workers against 1`, measured: `${c.highestCleanRate}/s against ${one!.highestCleanRate}/s`, target: '>= the 1-worker ceiling', met, miss: met ? undefined : miss });
    }
  }
  const cn = results.connections as ConnectionsResult | undefined;
  if (cn) {
    const met = cn.bytesPerConnection <= GOALS.bytesPerConnection;
    goals.push({ goal: 'memory per idle connection', measured: kb(cn.bytesPerConnection), target: `<= ${kb(GOALS.bytesPerConnection)}`, met, miss: met ? undefined : `over by ${kb(cn.bytesPerConnection - GOALS.bytesPerConnection)}` });
    const rmet = cn.reconnect.allConnected && cn.reconnect.ms <= GOALS.reconnectMs;
    goals.push({
      goal: `full reconnect of ${cn.locations} venues`,
      measured: `${(cn.reconnect.ms / 1000).toFixed(1)} s, mean ${cn.reconnect.meanPerSecond}/s, max ${cn.reconnect.maxPerSecond} in 1 s (cap ${cn.connectRateCap}/s)`,
      target: `<= ${GOALS.reconnectMs / 1000} s under the cap`,
      met: rmet,
      miss: rmet ? undefined : !cn.reconnect.allConnected ? `${cn.reconnect.connected}/${cn.locations} back` : `over by ${((cn.reconnect.ms - GOALS.reconnectMs) / 1000).toFixed(1)} s`,
    });
    const worst = Math.max(cn.reconnect.maxPerSecond, cn.initialConnect.maxPerSecond);
    const cmet = worst <= cn.connectRateCap;
    goals.push({
      goal: 'connect rate under GATEWAY_CONNECT_RATE',
      measured: `mean ${cn.reconnect.meanPerSecond}/s, busiest 1 s window ${worst}`,
      target: `<= ${cn.connectRateCap} in any 1 s`,
      met: cmet,
      miss: cmet
        ? undefined
        : `busiest 1 s window over by ${worst - cn.connectRateCap} (${Math.round(((worst - cn.connectRateCap) / cn.connectRateCap) * 100)}%); the simulator's event loop stalled up to ${Math.max(cn.reconnect.farEndLoopDelayMaxMs ?? 0, cn.initialConnect.farEndLoopDelayMaxMs ?? 0)} ms meanwhile (the gate absorbs 100)`,
    });
  }
  const wh = results.webhook as WebhookResult | undefined;
  if (wh) {
    const withWorker = wh.runs.filter((r) => r.eventsWorker);
    const clean = (r: (typeof wh.runs)[number]) => r.non2xx + r.failed === 0;
    const best = withWorker.filter(clean).sort((a, b) => b.acceptedPerSec - a.acceptedPerSec)[0] ?? withWorker[0];
    if (!best) throw new Error('webhook: no run with the events worker to judge the goal by');
    // No tolerance: the target the table prints is the one judged (a 3% allowance used to pass 2,425/s as met).
    const rmet = best.acceptedPerSec >= GOALS.webhookRate && clean(best);
    goals.push({
      goal: 'webhook ingest rate, events worker running',
      measured: `${best.acceptedPerSec}/s accepted (offered ${best.offered}/s)`,
      target: `>= ${GOALS.webhookRate}/s`,
      met: rmet,
      miss: rmet ? undefined : `short by ${GOALS.webhookRate - best.acceptedPerSec}/s${clean(best) ? '' : `, ${best.non2xx + best.failed} not accepted`}`,
    });
    const at = withWorker.find((r) => r.offered === GOALS.webhookP99Rate);
    if (at) {
      const met = at.ack.p99 <= GOALS.webhookP99 && clean(at);
      goals.push({ goal: `webhook ack p99 @ ${at.offered}/s, events worker running`, measured: `${ms(at.ack.p99)} ms`, target: `<= ${GOALS.webhookP99} ms`, met, miss: met ? undefined : `over by ${ms(at.ack.p99 - GOALS.webhookP99)} ms` });
    }
    for (const r of wh.runs) {
      goals.push({ goal: `CPU per webhook event${r.eventsWorker ? '' : ' (ingest only)'} @ ${r.offered}/s`, measured: `${ms(platformCpuMs(r.cpu, r.acceptedPerSec))} ms`, target: '(shown)', met: true });
    }
    goals.push({ goal: 'webhook: each event took effect once', measured: `${wh.check.rows} rows for ${wh.check.uniqueEventsAccepted} events, deliveries ${wh.check.deliveriesSum}/${wh.check.deliveriesExpected}`, target: 'rows = events, deliveries = accepted', met: wh.check.exactlyOnce, miss: wh.check.exactlyOnce ? undefined : `${wh.check.rowsWithWrongDeliveries} wrong counts, ${wh.check.missingRows} missing, ${wh.check.extraRows} extra` });
  }
  return goals;
}

/** CPU of the platform (apps, Postgres, Redis; not the load generator) per request, in ms. */
function cpuPerRequest(cpu: Record<string, number>, rate: number): string {
  return rate > 0 ? ms(platformCpuMs(cpu, rate)) : '-';
}

function print(results: Record<string, unknown>, goals: Goal[]): void {
  const say = (s = '') => process.stdout.write(`${s}\n`);
  const rp = results['request-path'] as RequestPathResult | undefined;
  if (rp) {
    say(`\nRequest path: ${rp.locations} venues, payment mix, ${rp.durationMs / 1000} s per run, latency at the simulated Dojo from send to reply (ms); "fresh": the variant's first run, before the warm-up`);
    // The share of the gateway's reads of orders answered from its copy (GATEWAY_READ_CACHE), when it keeps one.
    const fromCopy = (r: RequestPathResult['runs'][number]) =>
      r.readCache && r.readCache.hits + r.readCache.misses > 0 ? `${Math.round((100 * r.readCache.hits) / (r.readCache.hits + r.readCache.misses))}%` : '-';
    say(table(['variant', 'offered/s', 'achieved/s', 'p50', 'p95', 'p99', 'max', 'errors', 'reads from copy', 'CPU ms/req', 'CPU (cores)'], rp.runs.map((r) => [r.fresh ? `${r.variant} (fresh)` : r.variant, r.offered, r.achieved, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.errors, fromCopy(r), cpuPerRequest(r.cpu, r.achieved), Object.entries(r.cpu).map(([k, v]) => `${k.split(' ')[0]} ${v.toFixed(2)}`).join(', ')])));
    say('\nqueue / in-process');
    say(table(['offered/s', 'p50', 'p95', 'p99', 'max', 'p50 added (ms)'], rp.ratios.map((r) => [r.offered, `${r.p50}x`, `${r.p95}x`, `${r.p99}x`, `${r.max}x`, ms(r.p50DeltaMs)])));
  }
  const tp = results.throughput as ThroughputResult | undefined;
  if (tp) {
    say(`\nThroughput ceiling: offered rate raised until p99 > ${tp.p99LimitMs} ms${tp.confirmMisses ? ' in a step and in its repeat' : ''}, or errors; ${tp.stepMs / 1000} s per step`);
    say(table(['workers', 'offered/s', 'achieved/s', 'p50', 'p99', 'max', 'errors', 'CPU ms/req', 'CPU (cores)'], tp.ceilings.flatMap((c) => c.steps.map((r) => [c.workers, r.repeat ? `${r.offered} (again)` : r.offered, r.achieved, ms(r.p50), ms(r.p99), ms(r.max), r.errors, cpuPerRequest(r.cpu, r.achieved), Object.entries(r.cpu).map(([k, v]) => `${k.split(' ')[0]} ${v.toFixed(2)}`).join(', ')]))));
    for (const c of tp.ceilings) say(`  ${c.workers} worker(s): highest clean rate ${c.highestCleanRate}/s; stopped by: ${c.stoppedBy}`);
  }
  const cn = results.connections as ConnectionsResult | undefined;
  if (cn) {
    say(`\nConnections: ${cn.locations} idle venues on one gateway process`);
    say(table(['figure', 'value'], [
      [`RSS / V8 heap used, ${cn.baselineConnections} venues connected (after a full GC)`, `${(cn.rssBaselineBytes / 2 ** 20).toFixed(1)} / ${(cn.memory.baseline.heapUsed / 2 ** 20).toFixed(1)} MiB`],
      [`RSS / V8 heap used, ${cn.locations} venues connected (after a full GC)`, `${(cn.rssConnectedBytes / 2 ** 20).toFixed(1)} / ${(cn.memory.connected.heapUsed / 2 ** 20).toFixed(1)} MiB`],
      ['memory per connection (heap used + external, slope between the two)', kb(cn.bytesPerConnection)],
      ['RSS slope between the two (allocator noise: shown only)', kb(cn.rssBytesPerConnection)],
      [`idle CPU (pings every ${cn.pingIntervalMs / 1000} s, ${cn.idleWindowMs / 1000} s window)`, `${(cn.idleCpuCores * 100).toFixed(2)}% of a core`],
      [`connect of ${cn.locations - cn.baselineConnections} venues enabled at once`, `${(cn.initialConnect.ms / 1000).toFixed(1)} s, mean ${cn.initialConnect.meanPerSecond}/s, max ${cn.initialConnect.maxPerSecond} in 1 s`],
      [`reconnect after dropping ${cn.reconnect.dropped}`, `${(cn.reconnect.ms / 1000).toFixed(1)} s, mean ${cn.reconnect.meanPerSecond}/s, max ${cn.reconnect.maxPerSecond} in 1 s (cap ${cn.connectRateCap}/s)`],
    ]));
  }
  const wh = results.webhook as WebhookResult | undefined;
  if (wh) {
    say(`\nWebhook ingest: ${wh.locations} venues, ${Math.round(wh.duplicateShare * 100)}% duplicates, signed, keep-alive HTTP`);
    say(table(['events worker', 'offered/s', 'sent', 'dups', 'accepted/s', 'ack p50', 'p95', 'p99', 'max', 'non-2xx', 'failed', 'CPU ms/event', 'CPU (cores)'], wh.runs.map((r) => [r.eventsWorker ? 'running' : 'not yet', r.offered, r.sent, r.duplicatesSent, r.acceptedPerSec, ms(r.ack.p50), ms(r.ack.p95), ms(r.ack.p99), ms(r.ack.max), r.non2xx, r.failed, cpuPerRequest(r.cpu, r.acceptedPerSec), Object.entries(r.cpu).map(([k, v]) => `${k.split(' ')[0]} ${v.toFixed(2)}`).join(', ')])));
    say(`  Postgres: ${wh.check.rows} dojo_events rows for ${wh.check.uniqueEventsAccepted} distinct accepted events; deliveries ${wh.check.deliveriesSum} (expected ${wh.check.deliveriesExpected}); states ${JSON.stringify(wh.check.states)}; exactly once: ${wh.check.exactlyOnce ? 'yes' : 'NO'}`);
  }
  for (const [name, r] of Object.entries(results)) {
    const statements = (r as { statements?: StatementStats[] }).statements;
    if (!statements) continue;
    say(`\n${name}: the costliest statements (pg_stat_statements, execution plus planning, seeding included; ${statements.length} of them in <results>/${name}-statements.txt)`);
    say(statementsTable(statements.slice(0, 10), 70));
  }
  if (goals.length) {
    say('\nGoals');
    say(table(['goal', 'measured', 'target', 'result'], goals.map((g) => [g.goal, g.measured, g.target, g.target.startsWith('(') ? '' : g.met ? 'met' : `MISSED: ${g.miss}`])));
  }
}

async function main(): Promise<number> {
  const { names, opts } = parseArgs(process.argv.slice(2));
  const quick = opts.quick === '1';
  const root = repoRoot();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const settings: BenchSettings = {
    quick,
    logLevel: opts['log-level'] ?? 'warn',
    nodeOptions: opts['node-options'],
    poolSize: num(opts['pool-size'], 10),
    workerConcurrency: num(opts['worker-concurrency'], 50),
    eventsConcurrency: opts['events-concurrency'] !== undefined ? Number(opts['events-concurrency']) : undefined,
    connectRate: num(opts['connect-rate'], 200),
    preparedStatements: (opts['prepared-statements'] ?? 'true') === 'true',
    readLanes: opts['read-lanes'] !== undefined ? Number(opts['read-lanes']) : undefined,
    readCache: opts['read-cache'] !== undefined ? opts['read-cache'] === 'true' : undefined,
    announceAfterCommit: opts['announce-after-commit'] !== undefined ? opts['announce-after-commit'] === 'true' : undefined,
    rpcTransport: opts['rpc-transport'] === 'bullmq' ? 'bullmq' : 'streams',
    profile: opts.profile ? opts.profile.split(',') : [],
    resultsDir: join(resultsDir, `${stamp}`),
    logDir: join(resultsDir, `${stamp}`, 'logs'),
  };
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${m}\n`);
  // The local Postgres is durable (fsync and synchronous commits on), as `npm start` runs it and as the figures in
  // docs/performance.md were taken; EPOS_RELAY_PG_NON_DURABLE=1 measures a non-durable one (printed at start).
  let pgStats = opts['pg-stats'] === '1';
  const stack: Stack = await startStack({ log: (m) => log(m), statementStats: pgStats });
  const results: Record<string, unknown> = {};
  const config: Record<string, unknown> = { scenarios: names, settings };
  let failed = false;
  // The machine's own speed, before and after: the same build reads very differently in a slow hour of the VM.
  const probeSeconds = quick ? 2 : 4;
  const probe = async (when: string): Promise<WakeupCost | undefined> => {
    try {
      const [w] = await wakeupCost([GOALS.cpuRate], probeSeconds);
      log(`the machine ${when}: a wake-up costs ${w!.echoMs.toFixed(3)} ms of CPU (echo at ${GOALS.cpuRate}/s; bench/lib/wakeup.ts)`);
      return w;
    } catch (err) {
      log(`the machine ${when}: wake-up cost not measured (${(err as Error).message})`);
      return undefined;
    }
  };
  try {
    const machine = await machineFacts(stack.databaseUrl);
    const speed: { before?: WakeupCost; after?: WakeupCost } = { before: await probe('before the run') };
    /** Per profile file: where its summary starts (Platform.profileFrom). */
    const profileFrom = new Map<string, number>();
    for (const name of names) {
      const p = new Platform(stack, settings, name);
      const started = Date.now();
      const load = loadavg()[0]!;
      // Recorded with the results; it includes the bench's own previous scenario (the average decays over minutes).
      log(`${name}: 1-minute load average before: ${load.toFixed(2)}`);
      if (pgStats) {
        await resetStatementStats(stack.databaseUrl).catch((err: Error) => {
          pgStats = false;
          log(`--pg-stats: pg_stat_statements is not available (${err.message}); a given DATABASE_URL's server needs shared_preload_libraries=pg_stat_statements`);
        });
      }
      try {
        if (name === 'request-path') {
          const o = { locations: num(opts.locations, quick ? 200 : 500), rates: list(opts.rates, [200, 1000]), durationMs: num(opts['duration-ms'], quick ? 3_000 : 10_000), warmupMs: num(opts['warmup-ms'], quick ? 2_000 : WARM_UP.ms), maxInFlight: opts['max-in-flight'] ? Number(opts['max-in-flight']) : undefined, variants: variantsOf(opts.variants), rounds: num(opts.rounds, 1) };
          config[name] = o;
          results[name] = await requestPath(p, { ...o, log });
        } else if (name === 'throughput') {
          const o = {
            locations: num(opts.locations, quick ? 200 : 500),
            rates: list(opts['ceiling-rates'], quick ? [100, 200, 400, 700, 1000, 2000] : [100, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000, 2500, 3000]),
            stepMs: num(opts['step-ms'], quick ? 2_000 : 5_000),
            workers: list(opts.workers, quick ? [1] : [1, 2]),
            p99LimitMs: 100,
            confirmMisses: opts['single-steps'] !== '1',
            warmupMs: num(opts['warmup-ms'], quick ? 2_000 : WARM_UP.ms),
          };
          config[name] = o;
          results[name] = await throughput(p, { ...o, log });
        } else if (name === 'connections') {
          const o = {
            locations: num(opts.connections, quick ? 2_000 : 5_000),
            idleMs: num(opts['idle-ms'], quick ? 5_000 : 20_000),
            settleMs: quick ? 2_000 : 5_000,
            connectRate: settings.connectRate,
            pingIntervalMs: num(opts['ping-interval-ms'], 25_000),
            heapSnapshot: opts['heap-snapshot'] === '1',
          };
          config[name] = o;
          results[name] = await connections(p, { ...o, log });
        } else if (name === 'webhook') {
          const o = { locations: num(opts['webhook-locations'], 200), rates: list(opts['webhook-rates'], quick ? [1000, 2500] : [500, 1000, 2000, 3000]), durationMs: num(opts['webhook-duration-ms'], quick ? 3_000 : 8_000), duplicateShare: 0.3, ingestOnlyRates: list(opts['ingest-only-rates'], [3000]), ingestOnlyMs: quick ? 2_000 : 5_000 };
          config[name] = o;
          results[name] = await webhook(p, { ...o, log });
        }
        Object.assign(results[name] as object, { wallMs: Date.now() - started, loadAvgBefore: Math.round(load * 100) / 100, loadAvgAfter: Math.round(loadavg()[0]! * 100) / 100 });
        if (pgStats) {
          // A failure here loses the statements, not the scenario's figures.
          try {
            const statements = await topStatements(stack.databaseUrl, STATEMENTS_KEPT);
            mkdirSync(settings.resultsDir, { recursive: true });
            writeFileSync(join(settings.resultsDir, `${name}-statements.txt`), `${statementsTable(statements, 400)}\n`);
            Object.assign(results[name] as object, { statements });
            log(`${name}: its ${statements.length} costliest statements in ${join(settings.resultsDir, `${name}-statements.txt`)}`);
          } catch (err) {
            log(`${name}: statements not read (${(err as Error).message})`);
          }
        }
      } catch (err) {
        failed = true;
        log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
        results[name] = { error: (err as Error).message };
      } finally {
        await p.close();
        for (const [f, us] of p.profileFrom) profileFrom.set(f, us);
      }
    }
    const profiles: Record<string, unknown> = {};
    try {
      const dir = join(settings.resultsDir, 'profiles');
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
        // From the end of the warm-up (or the app's first healthy answer): start-up is not where a request's time goes.
        const fromUs = profileFrom.get(f);
        profiles[f] = { ...topSelfTime(join(dir, f), 15, fromUs), byPackage: selfTimeByPackage(join(dir, f), fromUs), window: fromUs === undefined ? 'whole process' : 'after start-up and warm-up' };
      }
    } catch {
      /* no profiles */
    }
    speed.after = await probe('after the run');
    machine.wakeup = speed;
    const ok = Object.fromEntries(Object.entries(results).filter(([, v]) => !(v as { error?: string }).error));
    const goals = evaluate(ok);
    if (speed.before || speed.after) {
      const read = (w?: WakeupCost) => (w ? `${w.echoMs.toFixed(3)}` : '?');
      goals.unshift({
        goal: `the machine (${typeof machine.cpuModel === 'string' ? machine.cpuModel : 'CPU unknown'}): CPU of one wake-up (echo at ${GOALS.cpuRate}/s), before / after the run`,
        measured: `${read(speed.before)} / ${read(speed.after)} ms`,
        target: '(shown; the figures of record: 0.076-0.090, AMD EPYC)',
        met: true,
      });
    }
    print(ok, goals);
    for (const [f, prof] of Object.entries(profiles)) {
      const pr = prof as ReturnType<typeof topSelfTime> & { byPackage: { pkg: string; share: number }[]; window: string };
      process.stdout.write(`\nCPU profile ${f} (${pr.window}): ${(pr.totalMs / 1000).toFixed(1)} s sampled, ${pr.idleShare}% idle; self time of the busy part\n`);
      process.stdout.write(table(['function', 'where', 'self ms', '%'], pr.top.map((t) => [t.fn.slice(0, 40), t.where.slice(0, 60), t.selfMs, t.share])) + '\n');
      process.stdout.write(`  by package: ${pr.byPackage.map((b) => `${b.pkg} ${b.share}%`).join(', ')}\n`);
    }
    const file = join(resultsDir, `${stamp}.json`);
    writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), wallMs: Date.now() - t0, machine, config, results, goals, profiles }, null, 2));
    const charts = writeCharts(ok, join(resultsDir, stamp));
    process.stdout.write(`\nAll figures: ${file} (${((Date.now() - t0) / 1000).toFixed(0)} s in all; app logs in ${settings.logDir})\n`);
    if (charts.length) process.stdout.write(`Charts: ${charts.map((c) => join(resultsDir, stamp, c)).join(', ')}\n`);
  } finally {
    await stack.stop();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
