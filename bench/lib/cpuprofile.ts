import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  selfMs: number;
  share: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/** A profile's samples as (node, µs) pairs, those taken from `fromUs` on (monotonicUs; all of them without it). */
function samplesOf(file: string, fromUs?: number): { byId: Map<number, ProfileNode>; samples: [ProfileNode, number][] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const samples: [ProfileNode, number][] = [];
  let at = prof.startTime;
  prof.samples.forEach((id, i) => {
    const us = Math.max(0, prof.timeDeltas[i] ?? 0);
    at += prof.timeDeltas[i] ?? 0;
    const n = byId.get(id);
    if (n && (fromUs === undefined || at >= fromUs)) samples.push([n, us]);
  });
  return { byId, samples };
}

/**
 * The functions with the most self time in a V8 .cpuprofile (what `node --cpu-prof` writes), over the samples taken
 * from `fromUs` on (monotonicUs: e.g. the end of the warm-up, leaving start-up out), or over all of them.
 */
export function topSelfTime(file: string, top = 15, fromUs?: number): { totalMs: number; idleShare: number; top: SelfTime[] } {
  const { byId, samples } = samplesOf(file, fromUs);
  const selfUs = new Map<number, number>();
  for (const [n, us] of samples) selfUs.set(n.id, (selfUs.get(n.id) ?? 0) + us);
  const agg = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, '').replace(/.*\/(dist[^/]*)\//, '');
    const where = url ? `${url}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const a = agg.get(key) ?? { fn: name, where, us: 0 };
    a.us += us;
    agg.set(key, a);
  }
  const busy = Math.max(1, total - idle);
  const list = [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((a) => ({ fn: a.fn, where: a.where, selfMs: Math.round(a.us / 1000), share: Math.round((a.us / busy) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), idleShare: Math.round((idle / Math.max(1, total)) * 1000) / 10, top: list };
}

/** Self time grouped by package (node_modules/<pkg>) or area (node internals, GC, project code); `fromUs` as topSelfTime's. */
export function selfTimeByPackage(file: string, fromUs?: number): { pkg: string; share: number }[] {
  const { samples } = samplesOf(file, fromUs);
  const agg = new Map<string, number>();
  let busy = 0;
  for (const [n, us] of samples) {
    const name = n.callFrame.functionName;
    if (name === '(idle)') continue;
    busy += us;
    const url = n.callFrame.url;
    let pkg: string;
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) pkg = m[1]!;
    else if (name === '(garbage collector)') pkg = '(gc)';
    else if (name === '(program)') pkg = '(program: native, I/O)';
    else if (url.startsWith('node:') || (!url && name)) pkg = '(node internals/native)';
    else if (/\/(libs|apps|bench)\//.test(url)) pkg = 'project code';
    else pkg = url || '(other)';
    agg.set(pkg, (agg.get(pkg) ?? 0) + us);
  }
  return [...agg.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([pkg, us]) => ({ pkg, share: Math.round((us / Math.max(1, busy)) * 1000) / 10 }));
}
