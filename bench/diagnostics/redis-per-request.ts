/**
 * Redis commands (and Redis CPU) per request of the payment mix through the queue, by command, and the CPU of
 * each process per request: `node dist/bench/diagnostics/redis-per-request.js [rate] [seconds] [workers]`
 * (defaults 200, 8, 1; rate 0 measures the idle platform instead; DATABASE_URL / REDIS_URL optional, as for
 * the bench). Reads Redis' INFO commandstats
 * before and after one open-loop run, so it shows what BullMQ, the reply stream, the fencing checks and the
 * console's request record cost per request, script by script. PROFILE=worker,gateway runs those with
 * --cpu-prof (profiles in the temporary folder printed at the end). It measures the request path on the default
 * Redis Streams transport; RPC_TRANSPORT=bullmq measures BullMQ instead.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startStack } from '@app/infra';
import { Platform } from '../lib/platform';
import { preparePaymentVenues, ORDERS_PER_LOCATION, startVariant } from '../scenarios/request-path';
import { runMix } from '../scenarios/mix';

type Stats = Map<string, { calls: number; usec: number }>;

async function commandStats(redis: Redis): Promise<Stats> {
  const text = await redis.info('commandstats');
  const out: Stats = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

async function main() {
  const [rate = 200, seconds = 8, workers = 1] = process.argv.slice(2).map(Number) as [number?, number?, number?];
  const stack = await startStack();
  const dir = mkdtempSync(join(tmpdir(), 'redis-per-request-'));
  const p = new Platform(
    stack,
    { quick: false, logLevel: 'warn', poolSize: 10, workerConcurrency: 50, connectRate: 200, preparedStatements: true, rpcTransport: process.env.RPC_TRANSPORT === 'bullmq' ? 'bullmq' : 'streams', profile: (process.env.PROFILE ?? '').split(',').filter(Boolean), resultsDir: dir, logDir: dir },
    'redis-per-request',
  );
  const redis = new Redis(stack.redisUrl);
  try {
    const accountIds = await preparePaymentVenues(p, 200);
    const { pids } = await startVariant(p, 'queue', accountIds, workers);
    if (rate === 0) {
      // Idle: what the platform costs with the venues connected and no requests (the fixed part of CPU per request).
      await new Promise((r) => setTimeout(r, 3_000));
      const before = await commandStats(redis);
      const meter = p.meter(pids);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const cpu = meter.end();
      const after = await commandStats(redis);
      console.log(`idle for ${seconds} s with ${accountIds.length} venues connected; Redis commands per second:`);
      for (const [cmd, a] of [...after].sort((x, y) => y[1].usec - x[1].usec)) {
        const calls = (a.calls - (before.get(cmd)?.calls ?? 0)) / seconds;
        if (calls > 0.01) console.log(`  ${cmd.padEnd(14)} ${calls.toFixed(1).padStart(8)} /s ${((a.usec - (before.get(cmd)?.usec ?? 0)) / seconds).toFixed(0).padStart(8)} µs/s`);
      }
      console.log('CPU by process (share of one core), and as ms per request at 200/s:');
      for (const [name, cores] of Object.entries(cpu)) console.log(`  ${name.padEnd(24)} ${(cores * 100).toFixed(2).padStart(6)}%  ${((cores / 200) * 1000).toFixed(3)} ms`);
      return;
    }
    await runMix(p, accountIds, rate, 3_000, { ordersPerLocation: ORDERS_PER_LOCATION });
    const before = await commandStats(redis);
    const meter = p.meter(pids);
    const r = await runMix(p, accountIds, rate, seconds * 1000, { ordersPerLocation: ORDERS_PER_LOCATION });
    const cpu = meter.end();
    const after = await commandStats(redis);
    const n = r.ok + r.errors;
    console.log(`${n} requests at ${r.achievedRatePerSec}/s (p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors}); Redis commands per request:`);
    const rows = [...after].map(([cmd, a]) => ({ cmd, calls: (a.calls - (before.get(cmd)?.calls ?? 0)) / n, usec: (a.usec - (before.get(cmd)?.usec ?? 0)) / n }));
    for (const row of rows.filter((x) => x.calls > 0.001).sort((x, y) => y.usec - x.usec)) {
      console.log(`  ${row.cmd.padEnd(14)} ${row.calls.toFixed(2).padStart(7)} calls ${row.usec.toFixed(1).padStart(8)} µs`);
    }
    const total = rows.reduce((a, x) => ({ calls: a.calls + x.calls, usec: a.usec + x.usec }), { calls: 0, usec: 0 });
    console.log(`  ${'total'.padEnd(14)} ${total.calls.toFixed(2).padStart(7)} calls ${total.usec.toFixed(1).padStart(8)} µs (inside Redis' command handlers; its CPU counter below adds the I/O)`);
    console.log('CPU ms per request by process:');
    for (const [name, cores] of Object.entries(cpu)) console.log(`  ${name.padEnd(24)} ${((cores / r.achievedRatePerSec) * 1000).toFixed(3)}`);
    console.log(`logs and profiles: ${dir}`);
  } finally {
    redis.disconnect();
    await p.close();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
