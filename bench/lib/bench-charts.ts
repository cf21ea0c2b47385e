import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestPathResult, MixRun } from '../scenarios/request-path';
import type { ThroughputResult } from '../scenarios/throughput';
import type { WebhookResult } from '../scenarios/webhook';
import type { Series } from './charts';
import { lineChart, stackedBars } from './charts';

/** CPU ms per request of each platform process (the load generator left out), from a run's cores and its achieved rate. */
export function cpuMsByProcess(cpu: Record<string, number>, rate: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (!(rate > 0)) return out;
  for (const [k, v] of Object.entries(cpu)) {
    if (/sandbox|sender/.test(k)) continue;
    // "path-worker1" (request-path's label left on the name) -> "worker1".
    const name = k.split(' ')[0]!.replace(/^path-/, '');
    out[name] = (out[name] ?? 0) + (v / rate) * 1000;
  }
  return out;
}

/**
 * Writes the charts of the results into `dir` and returns their file names:
 * latency.svg (p50/p99 against offered load, each variant: request path and
 * the throughput ramp), cpu-per-request.svg (by process, each run),
 * throughput.svg (achieved against offered), webhook.svg when that ran.
 */
export function writeCharts(results: Record<string, unknown>, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, svg: string) => {
    writeFileSync(join(dir, name), svg);
    written.push(name);
  };
  const rp = results['request-path'] as RequestPathResult | undefined;
  const tp = results.throughput as ThroughputResult | undefined;
  const wh = results.webhook as WebhookResult | undefined;
  const variants = new Map<string, MixRun[]>();
  // Fresh processes' runs (before the warm-up) are drawn as a variant of their own.
  for (const r of rp?.runs ?? []) {
    const name = r.fresh ? `${r.variant} (fresh)` : r.variant;
    variants.set(name, [...(variants.get(name) ?? []), r]);
  }
  // A step run again (its first run missed the tail limit) is drawn by its repeat, which decided it.
  const decided = (steps: MixRun[]) => steps.filter((r, i) => !(steps[i + 1]?.repeat && steps[i + 1]!.offered === r.offered));
  for (const c of tp?.ceilings ?? []) variants.set(`ramp, ${c.workers} worker(s)`, decided(c.steps));
  if (variants.size) {
    const series: Series[] = [];
    for (const [name, runs] of variants) {
      series.push({ name: `${name} p50`, points: runs.map((r) => ({ x: r.offered, y: r.p50 })) });
      series.push({ name: `${name} p99`, points: runs.map((r) => ({ x: r.offered, y: r.p99 })), dashed: true });
    }
    put('latency.svg', lineChart({ title: 'Latency at the simulated Dojo against offered load', xLabel: 'offered requests/s', yLabel: 'ms (log scale)', series, logY: true }));
    const rows = [...variants].flatMap(([name, runs]) => runs.map((r) => ({ label: `${name} @ ${r.offered}/s`, parts: cpuMsByProcess(r.cpu, r.achieved) })));
    for (const r of wh?.runs ?? []) rows.push({ label: `webhook${r.eventsWorker ? '' : ' (ingest only)'} @ ${r.offered}/s`, parts: cpuMsByProcess(r.cpu, r.acceptedPerSec) });
    put('cpu-per-request.svg', stackedBars({ title: 'CPU per request (per event for webhooks) by process, ms', xLabel: 'CPU ms per request', rows }));
  }
  if (tp) {
    const series: Series[] = tp.ceilings.map((c) => ({ name: `${c.workers} worker(s)`, points: decided(c.steps).map((r) => ({ x: r.offered, y: r.achieved })) }));
    const top = Math.max(...tp.ceilings.flatMap((c) => c.steps.map((r) => r.offered)));
    series.push({ name: 'offered', points: [{ x: 0, y: 0 }, { x: top, y: top }], dashed: true });
    put('throughput.svg', lineChart({ title: 'Throughput ramp: achieved against offered', xLabel: 'offered requests/s', yLabel: 'achieved requests/s', series }));
  }
  if (wh) {
    const series: Series[] = [true, false].flatMap((ev) => {
      const runs = wh.runs.filter((r) => r.eventsWorker === ev);
      if (!runs.length) return [];
      const n = ev ? 'events worker running' : 'ingest only';
      return [
        { name: `${n} ack p50`, points: runs.map((r) => ({ x: r.offered, y: r.ack.p50 })) },
        { name: `${n} ack p99`, points: runs.map((r) => ({ x: r.offered, y: r.ack.p99 })), dashed: true },
      ];
    });
    put('webhook.svg', lineChart({ title: 'Webhook acknowledgement latency against offered load', xLabel: 'offered events/s', yLabel: 'ms (log scale)', series, logY: true }));
  }
  return written;
}
