/**
 * How CPU per request changes with the age of the processes: starts a variant of the payment mix on fresh
 * processes, then runs the mix at one rate in consecutive windows and prints each window's CPU per request by
 * process. A falling curve means the early windows still pay for V8 warming up (compiling the hot functions);
 * a flat one means the processes reached their steady cost.
 * `node dist/bench/diagnostics/warmup-curve.js [rate] [windows] [seconds per window] [variant] [warm-up rate]
 * [warm-up seconds]` (defaults 200, 10, 3, queue, none; variant: queue | reads-queued | in-process; with a warm-up
 * the mix first runs at that rate for that long, unmeasured; DATABASE_URL / REDIS_URL optional, as for the bench).
 */
import { platformCpuMs } from '../lib/procs';
import { runMix } from '../scenarios/mix';
import { ORDERS_PER_LOCATION } from '../scenarios/request-path';
import { diagnosticVariant, withMixVariant } from './mix-variant';

async function main() {
  const args = process.argv.slice(2);
  const rate = Number(args[0] ?? 200);
  const windows = Number(args[1] ?? 10);
  const seconds = Number(args[2] ?? 3);
  await withMixVariant('warmup-curve', diagnosticVariant(args[3]), async ({ p, variant, accountIds, pids }) => {
    const warmRate = Number(args[4] ?? 0);
    const warmSeconds = Number(args[5] ?? 0);
    if (warmRate > 0 && warmSeconds > 0) {
      const r = await runMix(p, accountIds, warmRate, warmSeconds * 1000, { ordersPerLocation: ORDERS_PER_LOCATION });
      console.log(`warm-up: ${r.sent} requests at ${warmRate}/s (errors ${r.errors})`);
    }
    console.log(`${variant} at ${rate}/s, ${accountIds.length} venues, ${windows} windows of ${seconds} s after the warm-up:`);
    let sent = 0;
    for (let w = 1; w <= windows; w++) {
      const meter = p.meter(pids);
      const r = await runMix(p, accountIds, rate, seconds * 1000, { ordersPerLocation: ORDERS_PER_LOCATION });
      const cpu = meter.end();
      sent += r.sent;
      const parts = Object.entries(cpu).map(([name, cores]) => `${name} ${((cores / r.achievedRatePerSec) * 1000).toFixed(3)}`);
      console.log(`  window ${String(w).padStart(2)} (requests ${String(sent - r.sent + 1).padStart(6)}–${String(sent).padEnd(6)}): ${platformCpuMs(cpu, r.achievedRatePerSec).toFixed(2)} ms/request, p50 ${r.latency.p50} ms, errors ${r.errors} | ${parts.join(', ')}`);
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
