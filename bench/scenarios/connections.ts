import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { heapByConstructor } from '../lib/heapsnapshot';
import type { Platform } from '../lib/platform';
import { cpuSeconds, rssBytes, sleep } from '../lib/procs';
import { fixtures } from '@app/testing';
import { createRedis } from '@app/common';
import type { LocationChangedMessage } from '@app/contracts';
import { Channels } from '@app/contracts';
import { benchVenues } from '../lib/seed';
import { metricsText, sampleOf } from '../lib/metrics-text';

export interface ConnectResult {
  ms: number;
  allConnected: boolean;
  connected: number;
  /** Most connections the sandbox accepted in any 1-second window (by their opening times). */
  maxPerSecond: number;
  /** Connections opened / (last opening - first opening). */
  meanPerSecond?: number;
  /**
   * Longest event-loop delay of this process (the simulated Dojo, which stamps each connection's opening) while
   * the venues connected: a stall of this length can put dials that arrived that far apart into the same second.
   */
  farEndLoopDelayMaxMs?: number;
  /** Connections opened in each whole second from the start (by the simulator's opening times). */
  perSecond?: number[];
}

export interface ConnectionsResult {
  scenario: 'connections';
  locations: number;
  connectRateCap: number;
  pingIntervalMs: number;
  /** Venues connected at the first memory reading (a fifth of them; the rest connect after). */
  baselineConnections: number;
  /** The gateway's RSS with baselineConnections venues, and with all of them (each after a full GC). */
  rssBaselineBytes: number;
  rssConnectedBytes: number;
  /** Both points as the gateway reports them (V8 heap by space, external memory) beside the RSS. */
  memory: { baseline: GatewayMemory; connected: GatewayMemory };
  /**
   * Memory per connection: the growth of what the gateway holds alive (V8 heap used plus external memory, each
   * reading right after a full GC) between the two points, per added connection.
   */
  bytesPerConnection: number;
  /** The RSS slope between the same two points: shown, not the goal's figure (see docs/performance.md). */
  rssBytesPerConnection: number;
  idleWindowMs: number;
  idleCpuCores: number;
  /** The venues enabled after the baseline (four fifths), dialled at once. */
  initialConnect: ConnectResult;
  reconnect: ConnectResult & { dropped: number; lowestAfterDrop: number };
  /** With --heap-snapshot: V8 heap growth per connection by constructor (snapshots before and after). */
  heap?: { heapBytesPerConnection: number; growthPerConnection: { name: string; countPerConnection: number; bytesPerConnection: number }[] };
}

/** The gateway's own memory figures (prom-client's process metrics at GET /metrics), in bytes. */
export interface GatewayMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** heapTotal by V8 space (new, old, code, large_object...). */
  spaces: Record<string, number>;
}

/** The inspector URL a process started with --inspect=127.0.0.1:0 printed to its log. */
async function inspectorUrl(logFile: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = existsSync(logFile) ? /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(logFile, 'utf8')) : null;
    if (m) return m[1]!;
    await sleep(100);
  }
  throw new Error(`no inspector URL in ${logFile}`);
}

/**
 * A full garbage collection in another Node process, through its inspector (HeapProfiler.collectGarbage), so that
 * its heap holds only what is alive: an idle gateway does not collect on its own, and the garbage of loading and
 * dialling venues would otherwise count as memory per connection (10 to 40 KB of it per venue in trial runs).
 */
async function collectGarbage(url: string): Promise<void> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  try {
    for (let id = 1; id <= 2; id++) {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (data: WebSocket.RawData) => {
          const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
          if ((JSON.parse(text) as { id?: number }).id !== id) return;
          ws.off('message', onMessage);
          resolve();
        };
        ws.on('message', onMessage);
        ws.once('error', reject);
        ws.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      });
    }
  } finally {
    ws.close();
  }
}

async function gatewayMemory(url: string | undefined, pid: number): Promise<GatewayMemory> {
  const text = await metricsText(url);
  const one = (name: string) => sampleOf(text, name);
  const spaces: Record<string, number> = {};
  for (const m of text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="([a-z_]+)"\} (\S+)/gm)) spaces[m[1]!] = Number(m[2]);
  return { rss: rssBytes(pid), heapUsed: one('nodejs_heap_size_used_bytes'), heapTotal: one('nodejs_heap_size_total_bytes'), external: one('nodejs_external_memory_bytes'), spaces };
}

/** Most timestamps (ms) inside any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Opening times (epoch ms) of the sandbox's connections opened at or after `since`. */
function meanRate(times: number[]): number {
  if (times.length < 2) return times.length;
  const span = (Math.max(...times) - Math.min(...times)) / 1000;
  return Math.round(times.length / Math.max(span, 0.001));
}

function histogram(times: number[], since: number): number[] {
  const out: number[] = [];
  for (const t of times) {
    const i = Math.floor((t - since) / 1000);
    while (out.length <= i) out.push(0);
    out[i]!++;
  }
  return out;
}

function openedSince(sim: { connections(): { openedAt: string }[] }, since: number): number[] {
  return sim.connections().map((c) => Date.parse(c.openedAt)).filter((t) => t >= since);
}

/** Samples the sandbox's connection count until `target` are open or the time runs out. */
async function watchConnects(total: () => number, target: number, timeoutMs: number, alive: () => boolean): Promise<ConnectResult> {
  const t0 = performance.now();
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const samples: { t: number; n: number }[] = [];
  let n = total();
  while (performance.now() - t0 < timeoutMs) {
    n = total();
    samples.push({ t: performance.now(), n });
    if (n >= target) break;
    if (!alive()) throw new Error('the gateway process exited (see its log)');
    await sleep(50);
  }
  let maxPerSecond = 0;
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    while (samples[i]!.t - samples[j]!.t > 1000) j++;
    // Count over windows that span close to a full second (or the whole run when shorter).
    maxPerSecond = Math.max(maxPerSecond, samples[i]!.n - samples[j]!.n);
  }
  lag.disable();
  return { ms: Math.round(performance.now() - t0), allConnected: n >= target, connected: n, maxPerSecond, farEndLoopDelayMaxMs: Math.round(lag.max / 1e6) };
}

/**
 * Many idle venues on one gateway process: memory per connection, idle CPU
 * with keepalive running, and the time to bring every venue back after the
 * simulator drops them all at once.
 *
 * Memory per connection is the slope of the gateway's RSS between two
 * connection counts in the same process: a fifth of the venues connect first,
 * then the rest are enabled (as the admin does: a location-changed message
 * each) and connect too. (RSS minus a separate idle gateway's RSS, as before,
 * carried the difference between two processes' baselines, tens of MiB on
 * this machine, into the per-connection figure.)
 */
export async function connections(
  p: Platform,
  o: { locations: number; idleMs: number; settleMs: number; connectRate: number; pingIntervalMs: number; heapSnapshot?: boolean; log: (m: string) => void },
): Promise<ConnectionsResult> {
  await p.init();
  const sim = await p.startSandbox(o.locations, 'idle');
  sim.setPings({ intervalMs: o.pingIntervalMs });
  const snapDir = join(p.settings.resultsDir, 'heap');
  if (o.heapSnapshot) mkdirSync(snapDir, { recursive: true });
  // No periodic resync during the run: the venues enabled after the baseline must be dialled when their
  // location-changed messages arrive, not by a resync that happens to run while they are being seeded.
  const gatewayEnv = { GATEWAY_PING_INTERVAL_MS: o.pingIntervalMs, GATEWAY_CONNECT_RATE: o.connectRate, GATEWAY_RESYNC_MS: 3_600_000 };
  // The inspector (loopback, a free port) lets the bench collect the gateway's garbage before each memory reading.
  const nodeArgs = ['--inspect=127.0.0.1:0', ...(o.heapSnapshot ? ['--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${snapDir}`] : [])];
  const snapshot = async (pid: number): Promise<string | undefined> => {
    const before = new Set(existsSync(snapDir) ? readdirSync(snapDir) : []);
    process.kill(pid, 'SIGUSR1');
    let file: string | undefined;
    let size = -1;
    for (let i = 0; i < 600; i++) {
      await sleep(100);
      file = existsSync(snapDir) ? readdirSync(snapDir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)) : undefined;
      if (!file) continue;
      const now = statSync(join(snapDir, file)).size;
      if (now > 0 && now === size) return join(snapDir, file);
      size = now;
    }
    return undefined;
  };

  const fx = fixtures(p.prisma, p.box);
  const first = Math.max(1, Math.floor(o.locations / 5));
  await benchVenues(fx, { count: first, prefix: 'idle', ordersPerLocation: 0 });
  const startedAt = Date.now();
  const gw = await p.startApp('gateway', 'gateway', gatewayEnv, nodeArgs);
  const alive = () => gw.child.exitCode === null && gw.child.signalCode === null;
  const total = () => sim.hub.totalConnections();
  const firstConnect = await watchConnects(total, first, 180_000, alive);
  if (!firstConnect.allConnected) throw new Error(`only ${firstConnect.connected} of the first ${first} venues connected`);
  await sleep(o.settleMs);
  const inspector = await inspectorUrl(join(p.settings.logDir, `${p.label}-gateway.log`));
  await collectGarbage(inspector);
  await sleep(1_000);
  const memBaseline = await gatewayMemory(gw.url, gw.pid);
  const rssBaselineBytes = memBaseline.rss;
  o.log(`connections: RSS ${(rssBaselineBytes / 2 ** 20).toFixed(1)} MiB with ${first} venues (${Date.now() - startedAt} ms from the gateway's start)`);
  const baseSnap = o.heapSnapshot ? await snapshot(gw.pid) : undefined;

  // The rest of the venues, enabled as the admin does it: each location-changed message makes the gateway load it.
  const rest = await benchVenues(fx, { from: first, count: o.locations - first, prefix: 'idle', ordersPerLocation: 0 });
  const enabledAt = Date.now();
  const redis = createRedis(p.stack.redisUrl, 'command');
  try {
    const pipe = redis.pipeline();
    for (const l of rest) pipe.publish(Channels.locationChanged(p.prefix), JSON.stringify({ locationId: l.id, configVersion: 1 } satisfies LocationChangedMessage));
    await pipe.exec();
  } finally {
    redis.disconnect();
  }
  const watchedStart = await watchConnects(total, o.locations, 180_000, alive);
  // From the first message to the last venue connected: the dials of the venues enabled in one go.
  const initialConnect = { ...watchedStart, ms: Date.now() - enabledAt, maxPerSecond: maxInWindow(openedSince(sim, enabledAt), 1000), meanPerSecond: meanRate(openedSince(sim, enabledAt)), perSecond: histogram(openedSince(sim, enabledAt), enabledAt) };
  o.log(`connections: ${rest.length} more enabled: ${initialConnect.connected}/${o.locations} connected in ${initialConnect.ms} ms (max ${initialConnect.maxPerSecond}/s; this process's longest event-loop delay meanwhile ${initialConnect.farEndLoopDelayMaxMs} ms)`);

  await sleep(o.settleMs);
  const c0 = cpuSeconds(gw.pid);
  const t0 = performance.now();
  await sleep(o.idleMs);
  const idleCpuCores = Math.round(((cpuSeconds(gw.pid) - c0) / ((performance.now() - t0) / 1000)) * 10_000) / 10_000;
  await collectGarbage(inspector);
  await sleep(1_000);
  const memConnected = await gatewayMemory(gw.url, gw.pid);
  const rssConnectedBytes = memConnected.rss;
  o.log(`connections: RSS ${(rssConnectedBytes / 2 ** 20).toFixed(1)} MiB with ${o.locations} venues; idle CPU ${(idleCpuCores * 100).toFixed(2)}% of a core`);
  const per = (a: number, b: number) => `${((b - a) / Math.max(1, o.locations - first) / 1024).toFixed(1)} KB`;
  const mib = (n: number | undefined) => ((n ?? NaN) / 2 ** 20).toFixed(1);
  o.log(
    `connections: per added connection: RSS ${per(memBaseline.rss, memConnected.rss)}, V8 heap used ${per(memBaseline.heapUsed, memConnected.heapUsed)}, heap total ${per(memBaseline.heapTotal, memConnected.heapTotal)}, external ${per(memBaseline.external, memConnected.external)}; V8 new space ${mib(memBaseline.spaces.new)} -> ${mib(memConnected.spaces.new)} MiB, old space ${mib(memBaseline.spaces.old)} -> ${mib(memConnected.spaces.old)} MiB`,
  );

  let heap: ConnectionsResult['heap'];
  if (baseSnap) {
    const connSnap = await snapshot(gw.pid);
    if (connSnap) {
      const a = heapByConstructor(baseSnap, 400);
      const b = heapByConstructor(connSnap, 400);
      const prev = new Map(a.top.map((x) => [x.name, x]));
      const added = o.locations - first;
      heap = {
        heapBytesPerConnection: Math.round((b.totalBytes - a.totalBytes) / added),
        growthPerConnection: b.top
          .map((x) => ({ name: x.name, countPerConnection: Math.round(((x.count - (prev.get(x.name)?.count ?? 0)) / added) * 100) / 100, bytesPerConnection: Math.round((x.bytes - (prev.get(x.name)?.bytes ?? 0)) / added) }))
          .sort((x, y) => y.bytesPerConnection - x.bytesPerConnection)
          .slice(0, 25),
      };
      o.log(`connections: V8 heap grew ${heap.heapBytesPerConnection} bytes per connection; top: ${heap.growthPerConnection.slice(0, 8).map((g) => `${g.name} ${g.bytesPerConnection}`).join(', ')}`);
    }
  }
  const dropWall = Date.now();
  const dropAt = performance.now();
  const dropped = sim.dropConnections();
  // Until the closes are processed the old sockets still count; wait for them to go (bounded).
  while (total() > o.locations * 0.5 && performance.now() - dropAt < 5_000) await sleep(5);
  const lowest = total();
  const watched = await watchConnects(total, o.locations, 120_000, alive);
  const reconnect = { ...watched, ms: Math.round(performance.now() - dropAt), lowestAfterDrop: lowest, maxPerSecond: maxInWindow(openedSince(sim, dropWall), 1000), meanPerSecond: meanRate(openedSince(sim, dropWall)), perSecond: histogram(openedSince(sim, dropWall), dropWall) };
  o.log(`connections: dropped ${dropped}; ${reconnect.connected} back in ${reconnect.ms} ms (max ${reconnect.maxPerSecond}/s; this process's longest event-loop delay meanwhile ${reconnect.farEndLoopDelayMaxMs} ms)`);
  await p.stopApps();
  return {
    scenario: 'connections',
    locations: o.locations,
    connectRateCap: o.connectRate,
    pingIntervalMs: o.pingIntervalMs,
    baselineConnections: first,
    memory: { baseline: memBaseline, connected: memConnected },
    rssBaselineBytes,
    rssConnectedBytes,
    bytesPerConnection: Math.round(
      (memConnected.heapUsed + memConnected.external - memBaseline.heapUsed - memBaseline.external) / Math.max(1, initialConnect.connected - first),
    ),
    rssBytesPerConnection: Math.round((rssConnectedBytes - rssBaselineBytes) / Math.max(1, initialConnect.connected - first)),
    idleWindowMs: o.idleMs,
    idleCpuCores,
    initialConnect,
    reconnect: { ...reconnect, dropped },
    heap,
  };
}
