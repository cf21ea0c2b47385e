/**
 * What Postgres' announcements of order changes cost the commits that make them. The order tables' trigger (migration
 * 20261203000000_order_change_notify) calls pg_notify for every change not sent by Dojo's own requests: the venue
 * API's writes, the events worker's applies, counter settlements, the operator's edits. A transaction with a pending
 * notification takes one lock for the whole database server at commit and holds it until its commit record is on disk
 * (PostgreSQL's async.c, PreCommit_Notify: "Serialize writers by acquiring a special lock that we hold till after
 * commit"), so such commits cannot share a WAL flush: the server commits at most about one per flush time, however
 * many connections write.
 *
 * C connections each update orders of the bench's venues, one autocommit UPDATE after another, for a few seconds in
 * each of three ways, in turn:
 * - `in the commit`: the trigger notifies in the transaction (DB_ANNOUNCE_AFTER_COMMIT=false; psql and other tools);
 * - `not announced`: as Dojo's requests are (epos_relay.told_by_gateway on: the trigger does nothing);
 * - `after the commit`: as the platform's pools do by default (connections named `epos-relay/...`, a ChangeAnnouncer
 *   following them: the trigger raises the location, and the announcer notifies once the transaction has ended, on a
 *   connection of its own, where pg_notify has nothing to flush).
 * One connection LISTENs on the channel, as a gateway does. Printed per way: commits per second, the commit's
 * latency (p50 / p99), notifications heard, and Postgres' CPU per commit.
 *
 * `node dist/bench/diagnostics/announced-commits.js [connections, comma-separated] [seconds] [rounds]` (defaults 1,16;
 * 5; 2). DATABASE_URL / REDIS_URL optional, as for the bench. The local disk here flushes in about 0.1 ms; to see a
 * server disk, start Postgres with every fdatasync slowed (strace's fault injection, e.g. 1 ms:
 * `strace -f --seccomp-bpf -e trace=fdatasync -e inject=fdatasync:delay_exit=1000 -o /dev/null postgres -D ...`,
 * as the postgres user) and pass it as DATABASE_URL (docs/performance.md, session 35).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ANNOUNCES_AFTER_COMMIT_PREFIX, ChangeAnnouncer, createPrisma, dropDatabase, ensureDatabase, migrate, ORDER_CHANGES_CHANNEL, SecretBox, withDatabase } from '@app/db';
import { percentile } from '@app/dojo-sandbox';
import { startStack } from '@app/infra';
import { fixtures } from '@app/testing';
import { ServerCpuMeter } from '../lib/procs';
import { benchVenues } from '../lib/seed';

type Way = 'in the commit' | 'not announced' | 'after the commit';
const WAYS: readonly Way[] = ['in the commit', 'not announced', 'after the commit'];

interface WayRun {
  way: Way;
  connections: number;
  commitsPerSecond: number;
  p50: number;
  p99: number;
  heard: number;
  /** Undefined when no Postgres process of the server could be read (one started under strace, another machine's). */
  pgCpuMsPerCommit?: number;
}

const UPDATE = 'UPDATE orders SET updated_at = now() WHERE location_id = $1 AND id = $2';


async function main(): Promise<void> {
  const connectionCounts = (process.argv[2] ?? '1,16').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? 5);
  const rounds = Number(process.argv[4] ?? 2);
  if (connectionCounts.some((c) => !Number.isInteger(c) || c < 1) || !(seconds > 0) || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error('usage: announced-commits.js [connections, e.g. 1,16] [seconds] [rounds]');
  }
  const stack = await startStack();
  const clients: pg.Client[] = [];
  const name = `bench_announce_${Date.now().toString(36)}`;
  const url = withDatabase(stack.databaseUrl, name);
  try {
    await ensureDatabase(url);
    await migrate(url);
    const prisma = createPrisma(url, { poolSize: 4 });
    const venues = await benchVenues(fixtures(prisma, new SecretBox(randomBytes(32).toString('hex'))), { count: 100, prefix: 'n', ordersPerLocation: 4 });
    await prisma.$disconnect();
    const orders = venues.flatMap((v) => [0, 1, 2, 3].map((k) => [v.id, `ord_${k}`] as const));
    const pgPort = Number(new URL(stack.databaseUrl).port || 5432);
    const redisPort = Number(new URL(stack.redisUrl).port);

    const listener = new pg.Client({ connectionString: url });
    clients.push(listener);
    await listener.connect();
    let heard = 0;
    listener.on('notification', () => heard++);
    await listener.query(`LISTEN ${pg.escapeIdentifier(ORDER_CHANGES_CHANNEL)}`);
    // Plain connections (in the commit; not announced), and connections as the platform's pools make them.
    const announcer = new ChangeAnnouncer({ url });
    const plain: pg.Client[] = [];
    const platform: pg.Client[] = [];
    for (let i = 0; i < Math.max(...connectionCounts); i++) {
      const a = new pg.Client({ connectionString: url });
      const b = new pg.Client({ connectionString: url, application_name: `${ANNOUNCES_AFTER_COMMIT_PREFIX}diagnostic` });
      clients.push(a, b);
      await a.connect();
      await b.connect();
      announcer.watch(b);
      plain.push(a);
      platform.push(b);
    }

    const runWay = async (way: Way, n: number): Promise<WayRun> => {
      const used = (way === 'after the commit' ? platform : plain).slice(0, n);
      if (way !== 'after the commit') for (const c of used) await c.query(way === 'in the commit' ? 'RESET epos_relay.told_by_gateway' : "SET epos_relay.told_by_gateway = 'on'");
      const latencies: number[] = [];
      // Every Postgres process, backends opened during the run included.
      const pgMeter = new ServerCpuMeter(pgPort, redisPort).begin();
      const meterFrom = performance.now();
      heard = 0;
      const end = Date.now() + seconds * 1000;
      await Promise.all(
        used.map(async (c, i) => {
          // Each connection its own orders (no row lock waits between them).
          for (let k = i; Date.now() < end; k += n) {
            const [locationId, orderId] = orders[k % orders.length]!;
            const t0 = performance.now();
            await c.query({ name: 'touch', text: UPDATE, values: [locationId, orderId] });
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const commits = latencies.length;
      await new Promise((r) => setTimeout(r, 200)); // the last notifications on their way
      latencies.sort((a, b) => a - b);
      const pgCpuMs = pgMeter.end().postgres * (performance.now() - meterFrom);
      return {
        way,
        connections: n,
        commitsPerSecond: Math.round(commits / seconds),
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        heard,
        ...(pgCpuMs > 0 ? { pgCpuMsPerCommit: pgCpuMs / Math.max(1, commits) } : {}),
      };
    };

    console.log(`Postgres at ${new URL(stack.databaseUrl).host} (${stack.postgresProvider}); ${orders.length} orders of ${venues.length} venues; ${seconds} s per run`);
    console.log('connections  way               commits/s   commit p50 ms   commit p99 ms   notifications heard   Postgres CPU ms/commit');
    for (let round = 0; round < rounds; round++) {
      for (const n of connectionCounts) {
        for (const way of WAYS) {
          const r = await runWay(way, n);
          console.log(
            `${String(r.connections).padStart(11)}  ${r.way.padEnd(16)} ${String(r.commitsPerSecond).padStart(10)} ${r.p50.toFixed(2).padStart(15)} ${r.p99.toFixed(2).padStart(15)} ${String(r.heard).padStart(21)} ${(r.pgCpuMsPerCommit?.toFixed(3) ?? 'n/a').padStart(24)}`,
          );
        }
      }
    }
    await announcer.close();
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
    // A given server keeps nothing of the run; a local one goes with the stack.
    await dropDatabase(url, name).catch(() => undefined);
    await stack.stop();
  }
}

void main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
