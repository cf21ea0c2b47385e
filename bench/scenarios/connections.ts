import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { heapByConstructor } from '../lib/heapsnapshot';
import type { Platform } from '../lib/platform';
import { cpuSeconds, rssBytes, sleep } from '../lib/procs';
import { fixtures } from '@app/testing';
import { benchVenues } from '../lib/seed';

export interface ConnectResult {
  ms: number;
  allConnected: boolean;
  connected: number;
  /** Most connections the sandbox accepted in any 1-second window (by their opening times). */
  maxPerSecond: number;
  /** Connections opened / (last opening - first opening). */
  meanPerSecond?: number;
}

export interface ConnectionsResult {
  scenario: 'connections';
  locations: number;
  connectRateCap: number;
  pingIntervalMs: number;
  rssBaselineBytes: number;
  rssConnectedBytes: number;
  bytesPerConnection: number;
  idleWindowMs: number;
  idleCpuCores: number;
  initialConnect: ConnectResult;
  reconnect: ConnectResult & { dropped: number; lowestAfterDrop: number };
  /** With --heap-snapshot: V8 heap growth per connection by constructor (snapshots before and after). */
  heap?: { heapBytesPerConnection: number; growthPerConnection: { name: string; countPerConnection: number; bytesPerConnection: number }[] };
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

function openedSince(sim: { connections(): { openedAt: string }[] }, since: number): number[] {
  return sim.connections().map((c) => Date.parse(c.openedAt)).filter((t) => t >= since);
}

/** Samples the sandbox's connection count until `target` are open or the time runs out. */
async function watchConnects(total: () => number, target: number, timeoutMs: number, alive: () => boolean): Promise<ConnectResult> {
  const t0 = performance.now();
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
  return { ms: Math.round(performance.now() - t0), allConnected: n >= target, connected: n, maxPerSecond };
}

/**
 * Many idle venues on one gateway process: memory per connection (RSS before
 * and after they connect), idle CPU with keepalive running, and the time to
 * bring every venue back after the simulator drops them all at once.
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
  const gatewayEnv = { GATEWAY_PING_INTERVAL_MS: o.pingIntervalMs, GATEWAY_CONNECT_RATE: o.connectRate };
  const nodeArgs = o.heapSnapshot ? ['--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${snapDir}`] : [];
  // The same gateway with no venues, for the baseline (then stopped).
  const empty = await p.startApp('gateway', 'gateway-empty', gatewayEnv, nodeArgs);
  await sleep(o.settleMs);
  const rssBaselineBytes = rssBytes(empty.pid);
  o.log(`connections: gateway idle with no venues: RSS ${(rssBaselineBytes / 2 ** 20).toFixed(1)} MiB`);
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
  const baseSnap = o.heapSnapshot ? await snapshot(empty.pid) : undefined;
  await empty.stop();

  await benchVenues(fixtures(p.prisma, p.box), { count: o.locations, prefix: 'idle', ordersPerLocation: 0 });
  const startedAt = Date.now();
  const gw = await p.startApp('gateway', 'gateway', gatewayEnv, nodeArgs);
  const alive = () => gw.child.exitCode === null && gw.child.signalCode === null;
  const total = () => sim.hub.totalConnections();
  const watchedStart = await watchConnects(total, o.locations, 180_000, alive);
  // From the gateway's start (process start and health included) to the last venue connected.
  const initialConnect = { ...watchedStart, ms: Date.now() - startedAt, maxPerSecond: maxInWindow(openedSince(sim, startedAt), 1000), meanPerSecond: meanRate(openedSince(sim, startedAt)) };
  o.log(`connections: ${initialConnect.connected}/${o.locations} connected in ${initialConnect.ms} ms (max ${initialConnect.maxPerSecond}/s)`);

  await sleep(o.settleMs);
  const rssConnectedBytes = rssBytes(gw.pid);
  const c0 = cpuSeconds(gw.pid);
  const t0 = performance.now();
  await sleep(o.idleMs);
  const idleCpuCores = Math.round(((cpuSeconds(gw.pid) - c0) / ((performance.now() - t0) / 1000)) * 10_000) / 10_000;
  o.log(`connections: RSS ${(rssConnectedBytes / 2 ** 20).toFixed(1)} MiB with ${o.locations} venues; idle CPU ${(idleCpuCores * 100).toFixed(2)}% of a core`);

  let heap: ConnectionsResult['heap'];
  if (baseSnap) {
    const connSnap = await snapshot(gw.pid);
    if (connSnap) {
      const a = heapByConstructor(baseSnap, 400);
      const b = heapByConstructor(connSnap, 400);
      const prev = new Map(a.top.map((x) => [x.name, x]));
      heap = {
        heapBytesPerConnection: Math.round((b.totalBytes - a.totalBytes) / o.locations),
        growthPerConnection: b.top
          .map((x) => ({ name: x.name, countPerConnection: Math.round(((x.count - (prev.get(x.name)?.count ?? 0)) / o.locations) * 100) / 100, bytesPerConnection: Math.round((x.bytes - (prev.get(x.name)?.bytes ?? 0)) / o.locations) }))
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
  const reconnect = { ...watched, ms: Math.round(performance.now() - dropAt), lowestAfterDrop: lowest, maxPerSecond: maxInWindow(openedSince(sim, dropWall), 1000), meanPerSecond: meanRate(openedSince(sim, dropWall)) };
  o.log(`connections: dropped ${dropped}; ${reconnect.connected} back in ${reconnect.ms} ms (max ${reconnect.maxPerSecond}/s)`);
  await p.stopApps();
  return {
    scenario: 'connections',
    locations: o.locations,
    connectRateCap: o.connectRate,
    pingIntervalMs: o.pingIntervalMs,
    rssBaselineBytes,
    rssConnectedBytes,
    bytesPerConnection: Math.round((rssConnectedBytes - rssBaselineBytes) / Math.max(1, initialConnect.connected)),
    idleWindowMs: o.idleMs,
    idleCpuCores,
    initialConnect,
    reconnect: { ...reconnect, dropped },
    heap,
  };
}
