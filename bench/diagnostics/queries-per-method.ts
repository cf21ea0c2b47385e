/**
 * How many SQL round trips and how much CPU each method of the payment mix
 * (and of the Tables API mix) costs in the RpcDispatcher (in this process, no queue), measured by counting
 * pg client queries, with this process's and Postgres' CPU counters (requests
 * one at a time, so other load on the machine does not enter the figures).
 * Statements and round trips are counted apart: a statement batch (SqlRunner's
 * queryBatch: BEGIN with the first statements, the last write with COMMIT) is
 * written at once and answered after one Sync, so it is one round trip of
 * several statements; every other query is one of each.
 * `node dist/bench/diagnostics/queries-per-method.js` (DATABASE_URL / REDIS_URL
 * optional, as for the bench; DB_PREPARED_STATEMENTS=true for named statements).
 */
import { randomBytes } from 'node:crypto';
import { createLogger } from '@app/common';
import type { JsonRpcResponse } from '@app/contracts';
import { createPrisma, ensureDatabase, migrate, SecretBox, withDatabase } from '@app/db';
import { tableSessionId } from '@app/domain';
import { dojoTablesDialect, RpcDispatcher } from '@app/domain/rpc';
import { startStack } from '@app/infra';
import type { LocationFixture } from '@app/testing';
import { countPgRoundTrips, fixtures } from '@app/testing';
import { cpuSeconds, serverPids } from '../lib/procs';
import { benchVenues } from '../lib/seed';
import { MIX_STEPS, paymentMix, TABLES_MIX_STEPS, tablesPaymentMix } from '../scenarios/mix';

async function main() {
  const stack = await startStack();
  try {
    const url = withDatabase(stack.databaseUrl, `bench_queries_${Date.now().toString(36)}`);
    await ensureDatabase(url);
    await migrate(url);
    // Every pg query of this process from here on: round trips, and the statements in them (a batch is one of several).
    const sent = countPgRoundTrips();
    const prepared = process.env.DB_PREPARED_STATEMENTS === 'true';
    const prisma = createPrisma(url, { poolSize: 4, preparedStatements: prepared });
    const box = new SecretBox(randomBytes(32).toString('hex'));
    const locs = await benchVenues(fixtures(prisma, box), { count: 20, prefix: 'q', ordersPerLocation: 4 });
    type Stat = { n: number; q: number; trips: number; cpuUs: number; sysUs: number; ms: number; pgMs: number };
    const pgPids = () => serverPids(Number(new URL(stack.databaseUrl).port), Number(new URL(stack.redisUrl).port)).postgres;
    const pgCpu = () => pgPids().reduce((a, pid) => a + cpuSeconds(pid), 0);
    let rpc = 0;
    // Each method of a mix, one request at a time over the venues (round 0 is a warm-up), then the table.
    const measure = async (
      title: string,
      dispatcher: Pick<RpcDispatcher<JsonRpcResponse, unknown>, 'handle'>,
      steps: readonly string[],
      script: (l: LocationFixture, k: number) => { method: string; params: Record<string, unknown> },
    ) => {
      const per = new Map<string, Stat>();
      for (let round = 0; round < 6; round++) {
        for (const l of locs) {
          for (let k = 8; k < 8 + steps.length; k++) {
            const { method, params } = script(l, k + round * 8);
            const q0 = sent.statements;
            const t0trips = sent.trips;
            const pg0 = pgCpu();
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            const res: JsonRpcResponse = await dispatcher.handle({ locationId: l.id, method, rpcId: `r${++rpc}`, params, deadline: Date.now() + 10_000, traceId: 't', fence: 1 });
            const c = process.cpuUsage(c0);
            const pg1 = pgCpu();
            if ('error' in res && res.error) throw new Error(`${method}: ${JSON.stringify(res.error)}`);
            if (round === 0) continue; // warm-up
            const s = per.get(method) ?? { n: 0, q: 0, trips: 0, cpuUs: 0, sysUs: 0, ms: 0, pgMs: 0 };
            s.pgMs += (pg1 - pg0) * 1000;
            s.n++;
            s.q += sent.statements - q0;
            s.trips += sent.trips - t0trips;
            s.cpuUs += c.user + c.system;
            s.sysUs += c.system;
            s.ms += performance.now() - t0;
            per.set(method, s);
          }
        }
      }
      console.log(`${title}: method              SQL round trips   statements   node CPU ms   (kernel ms)   Postgres CPU ms   wall ms (one at a time)`);
      let mix = { node: 0, pg: 0 };
      for (const [m, s] of per) {
        console.log(`${m.padEnd(26)} ${(s.trips / s.n).toFixed(1).padStart(15)} ${(s.q / s.n).toFixed(1).padStart(12)} ${(s.cpuUs / s.n / 1000).toFixed(2).padStart(13)} ${(s.sysUs / s.n / 1000).toFixed(2).padStart(13)} ${(s.pgMs / s.n).toFixed(2).padStart(17)} ${(s.ms / s.n).toFixed(2).padStart(10)}`);
        const share = steps.filter((x) => x === m).length / steps.length;
        mix = { node: mix.node + (share * s.cpuUs) / s.n / 1000, pg: mix.pg + (share * s.pgMs) / s.n };
      }
      console.log(`${title} (weighted): node ${mix.node.toFixed(2)} ms + Postgres ${mix.pg.toFixed(2)} ms per request`);
    };
    console.log(`prepared statements: ${prepared ? 'on' : 'off'}`);
    const logger = createLogger('q', 'silent');
    const events = { ingest: async () => ({ eventRowId: '', duplicate: false }) };
    const mixScript = paymentMix(4, 'q');
    await measure('payment mix', new RpcDispatcher({ prisma, logger, events }), MIX_STEPS, (l, k) => mixScript(l.dojoAccountId.replace(/\d+$/, '0'), k));
    // The same venues over the Tables API (bench request-path's "queue, Tables API" variant): session ids name the orders.
    const tablesScript = tablesPaymentMix(4, 'qt', (_account, orderId) => tableSessionId(current!.id, orderId));
    let current: LocationFixture | undefined;
    const tables = new RpcDispatcher({ prisma, logger, events, dialect: dojoTablesDialect() });
    await measure('Tables mix', tables, TABLES_MIX_STEPS, (l, k) => {
      current = l;
      return tablesScript(l.dojoAccountId.replace(/\d+$/, '0'), k);
    });
    await prisma.$disconnect();
  } finally {
    await stack.stop();
  }
}

void main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
