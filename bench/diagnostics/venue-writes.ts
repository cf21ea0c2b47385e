/**
 * The venues' own writes: a POS replacing its orders through the venue API (PUT /venue/v1/locations/{id}/orders/{id},
 * an order of one item with a modifier and a sub-item, the admin app as deployed), at fixed rates over keep-alive
 * HTTP. Each write is a transaction that stores the order, queues its POS event for Dojo (the outbox) and is
 * announced to the gateways' read caches after its commit (DB_ANNOUNCE_AFTER_COMMIT). Printed per rate: writes per
 * second achieved, latency at the client (p50, p99), refusals, CPU per write of the admin app and of Postgres (no
 * worker runs, so the POS events stay queued), the SQL statements a write sends (pg_stat_statements, BEGIN and
 * COMMIT included; a local server only), and the announcements the admin app counted. It gives the
 * capacity model its line for the venues' writes (docs/performance.md).
 * With `feed` as its fifth argument it polls each venue's feed instead (GET /venue/v1/locations/{id}/feed, empty: what
 * a POS waiting for payments sends), and the columns are per read.
 * `node dist/bench/diagnostics/venue-writes.js [rates, comma-separated] [seconds] [venues] [put|feed]` (defaults 100,300; 5; 100; put;
 * DATABASE_URL / REDIS_URL optional, as for the bench; the first rate is run once first as a warm-up). SHOW_STATEMENTS=1
 * also lists each rate's most frequent statements with their calls per write; PROFILE_ADMIN=1 writes the admin's CPU profile.
 */
import { Agent, request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '@app/dojo-sandbox';
import { startStack } from '@app/infra';
import { fixtures } from '@app/testing';
import { Platform } from '../lib/platform';
import { metricsText, sampleOf } from '../lib/metrics-text';
import { resetStatementStats, topStatements } from '../lib/pg-stats';
import { benchVenues } from '../lib/seed';

const OPERATOR_TOKEN = 'bench-operator-token-venue-writes';

/** The order a POS sends (a dine-in order at the venue's table T1). */
function orderBody(id: string, version: number): string {
  return JSON.stringify({
    id,
    status: 'Accepted',
    details: { orderType: 'DineIn', dineIn: { tableId: 'T1', waiterId: 'w1' } },
    items: [
      {
        name: 'Burger',
        plu: 'B1',
        quantity: 1 + (version % 3),
        amountPerItem: { value: 1000, currencyCode: 'GBP' },
        modifiers: [{ name: 'Cheese', plu: 'M1', quantity: 1, amountPerModifier: { value: 100, currencyCode: 'GBP' } }],
        subItems: [{ name: 'Fries', plu: 'F1', quantity: 1, amountPerItem: { value: 0, currencyCode: 'GBP' } }],
      },
    ],
    totalAmount: { value: 1100 * (1 + (version % 3)), currencyCode: 'GBP' },
    payable: true,
    displayName: `Table 1 (${id})`,
  });
}

interface Call {
  status: number;
  body: string;
}

function call(agent: Agent, url: string, method: string, token: string, body?: string): Promise<Call> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}


/** The announcements the admin app has counted (its /metrics is open: no METRICS_TOKEN is given). */
async function counted(url: string): Promise<number> {
  return sampleOf(await metricsText(url, 5_000), 'epos_relay_db_announced_changes_total');
}

async function main(): Promise<void> {
  const rates = (process.argv[2] ?? '100,300').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? 5);
  const venueCount = Number(process.argv[4] ?? 100);
  const what = process.argv[5] ?? 'put';
  if (rates.some((r) => !(r > 0)) || !(seconds > 0) || !Number.isInteger(venueCount) || venueCount < 1 || !['put', 'feed'].includes(what)) {
    throw new Error('usage: venue-writes.js [rates, e.g. 100,300] [seconds] [venues] [put|feed]');
  }
  const feed = what === 'feed';
  /** What the columns count per: a write, or a feed read. */
  const unit = feed ? 'read' : 'write';
  // pg_stat_statements on a local server: the statements a write sends (a given server may not have it; then none shown).
  const stack = await startStack({ statementStats: true });
  const dir = mkdtempSync(join(tmpdir(), 'venue-writes-'));
  const p = new Platform(
    stack,
    { quick: false, logLevel: 'warn', poolSize: 10, workerConcurrency: 50, connectRate: 200, preparedStatements: true, rpcTransport: 'streams', profile: process.env.PROFILE_ADMIN ? ['admin'] : [], resultsDir: dir, logDir: dir },
    'venuewrites',
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await p.init();
    const venues = await benchVenues(fixtures(p.prisma, p.box), { count: venueCount, prefix: 'vw', ordersPerLocation: 0 });
    const admin = await p.startApp('admin', 'admin', { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN });
    const base = admin.url!;
    const tokens: string[] = [];
    for (const v of venues) {
      const r = await call(agent, `${base}/v1/locations/${v.id}/venue-tokens`, 'POST', OPERATOR_TOKEN, JSON.stringify({ name: 'bench till' }));
      if (r.status !== 201 && r.status !== 200) throw new Error(`venue token for ${v.id}: ${r.status} ${r.body}`);
      tokens.push((JSON.parse(r.body) as { token: string }).token);
    }

    let version = 0;
    const run = async (rate: number) => {
      const latencies: number[] = [];
      const refused = new Map<number, number>();
      const counting = await resetStatementStats(stack.databaseUrl).then(() => true, () => false);
      const announced0 = await counted(base);
      // The admin app, and every Postgres process (backends opened during the run included).
      const meter = p.meter({ admin: admin.pid });
      const started = performance.now();
      const total = Math.round(rate * seconds);
      const inFlight: Promise<void>[] = [];
      for (let n = 0; n < total; n++) {
        // Open loop: the n-th write leaves at n / rate, whatever the answers before it.
        const due = started + (n * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const k = n % venues.length;
        const orderId = `o-${Math.floor(n / venues.length) % 4}`;
        const body = feed ? undefined : orderBody(orderId, ++version);
        const t0 = performance.now();
        const sent = feed
          ? call(agent, `${base}/venue/v1/locations/${venues[k]!.id}/feed?limit=100`, 'GET', tokens[k]!)
          : call(agent, `${base}/venue/v1/locations/${venues[k]!.id}/orders/${orderId}`, 'PUT', tokens[k]!, body);
        inFlight.push(
          sent.then(
            (r) => {
              latencies.push(performance.now() - t0);
              if (r.status >= 300) refused.set(r.status, (refused.get(r.status) ?? 0) + 1);
            },
            () => void refused.set(0, (refused.get(0) ?? 0) + 1),
          ),
        );
      }
      await Promise.all(inFlight);
      const elapsed = (performance.now() - started) / 1000;
      const cpu = meter.end();
      await new Promise((r) => setTimeout(r, 200)); // the last announcements
      const announced = (await counted(base)) - announced0;
      latencies.sort((a, b) => a - b);
      const writes = latencies.length;
      const top = counting ? await topStatements(stack.databaseUrl, 10_000) : [];
      const statements = counting ? top.reduce((a, st) => a + st.calls, 0) / Math.max(1, writes) : undefined;
      const frequent = top.slice(0, 12).map((st) => `  ${(st.calls / Math.max(1, writes)).toFixed(2)}/${unit}  ${st.query.slice(0, 110)}`);
      const perWrite = (cores: number) => ((cores * elapsed * 1000) / Math.max(1, writes)).toFixed(2);
      return { rate, achieved: writes / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), refused, admin: perWrite(cpu.admin ?? 0), postgres: perWrite(cpu.postgres ?? 0), announced, statements, frequent };
    };

    console.log(
      feed
        ? `venue API feed reads: ${venues.length} venues, GET of the feed from its start (empty: a POS polling), ${seconds} s per rate; admin app alone`
        : `venue API writes: ${venues.length} venues, PUT of an order (4 per venue, replaced in turn), ${seconds} s per rate; admin app alone (no worker)`,
    );
    await run(rates[0]!); // warm-up
    const u = unit.padEnd(5); // the columns line up as for writes
    console.log(`offered/s  achieved/s  p50 ms   p99 ms  refused         admin CPU ms/${u}  Postgres CPU ms/${u}  statements/${u}  announcements counted`);
    for (const rate of rates) {
      const r = await run(rate);
      const refusedText = r.refused.size ? [...r.refused].map(([s, n]) => `${n}x${s || 'network'}`).join(' ') : '0';
      console.log(
        `${String(r.rate).padStart(9)}  ${r.achieved.toFixed(0).padStart(10)}  ${r.p50.toFixed(1).padStart(6)}  ${r.p99.toFixed(1).padStart(7)}  ${refusedText.padEnd(14)}  ${r.admin.padStart(18)}  ${r.postgres.padStart(21)}  ${(r.statements?.toFixed(1) ?? 'n/a').padStart(16)}  ${String(r.announced).padStart(21)}`,
      );
      if (process.env.SHOW_STATEMENTS) console.log(r.frequent.join('\n'));
    }
  } finally {
    agent.destroy();
    await p.close();
    await stack.stop();
    if (process.env.PROFILE_ADMIN) console.log(`profiles: ${dir}/profiles`);
  }
}

void main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
