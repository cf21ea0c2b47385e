import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { dojoTablesDialect, OrderReadCache } from '@app/domain/rpc';
import { ANNOUNCES_AFTER_COMMIT_PREFIX, ChangeAnnouncer, createPrisma, ORDER_CHANGED_NOTICE, ORDER_CHANGES_CHANNEL, PgChangeFeed } from '@app/db';
import { RpcWorkerHost } from '@app/queue';
import { createLogger } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { GBP, rpcJob } from '../worker/fixtures';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

const silent = { info: () => undefined, warn: () => undefined };

/** Runs `sql` in a transaction marked as Dojo's own request (RpcDispatcher's mark): Postgres does not announce it. */
async function unannounced(url: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT set_config('epos_relay.told_by_gateway', 'on', true)`);
    await c.query(sql);
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
}

describe('order change announcements (the order tables trigger, PgChangeFeed)', () => {
  let db: TestDatabase;
  let feed: PgChangeFeed;
  const heard: string[] = [];
  const lives: boolean[] = [];
  let L1: string;
  let L2: string;

  before(async () => {
    db = await createTestDatabase('rcfeed');
    const sh = await fixtures(db.prisma).softwareHouse();
    L1 = (await fixtures(db.prisma).location({ softwareHouseId: sh.id })).id;
    L2 = (await fixtures(db.prisma).location({ softwareHouseId: sh.id })).id;
    feed = new PgChangeFeed({ url: db.url, channel: ORDER_CHANGES_CHANNEL, onChange: (p) => heard.push(p), onLive: (l) => lives.push(l), log: silent, heartbeatMs: 200, retryMs: 50 });
    await feed.start();
    assert.deepEqual(lives, [true]);
  });
  after(async () => {
    await feed?.close();
    await db?.drop();
  });

  /** Waits for `payload`, then checks that nothing else was heard. */
  async function expectHeard(payloads: string[]): Promise<void> {
    await waitFor(() => heard.length >= payloads.length || undefined, `announcements ${payloads.join(', ')}`);
    await sleep(50);
    assert.deepEqual(heard.splice(0), payloads);
  }

  it('announces each change to an order, its items or its payments once per transaction, with the location', async () => {
    await fixtures(db.prisma).order(L1, { id: 'o1', total: 1_000, tableId: 'T1' }); // the order, then its items
    await expectHeard([L1, L1]);
    await db.prisma.$executeRawUnsafe(`UPDATE orders SET note = 'x' WHERE location_id = '${L1}'`);
    await expectHeard([L1]);
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`UPDATE order_items SET note = 'y' WHERE location_id = '${L1}'`),
      db.prisma.$executeRawUnsafe(`UPDATE orders SET note = 'z' WHERE location_id = '${L1}'`),
    ]);
    await expectHeard([L1]);
    await fixtures(db.prisma).order(L2, { id: 'p1', total: 500 });
    await waitFor(() => heard.length > 0 || undefined, 'the order announced');
    await sleep(50);
    assert.deepEqual([...new Set(heard.splice(0))], [L2]);
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO payments (location_id, order_id, payment_intent_id, currency, paid_amount, updated_at)
       VALUES ('${L2}', 'p1', 'pi_1', 'GBP', 100, now())`,
    );
    await expectHeard([L2]);
    await db.prisma.$executeRawUnsafe(`DELETE FROM payments WHERE location_id = '${L2}'`);
    await expectHeard([L2]);
    await db.prisma.$executeRawUnsafe(`DELETE FROM order_items WHERE location_id = '${L1}'`);
    await expectHeard([L1]);
  });

  it("does not announce the changes of Dojo's own requests (marked), and says '*' after a TRUNCATE", async () => {
    await unannounced(db.url, `UPDATE orders SET note = 'dojo' WHERE location_id = '${L1}'`);
    // A change as the workers run it (RpcDispatcher marks its transaction): a payment, its order's totals.
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger: createLogger('t', 'silent'), events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
    const paid = await dispatcher.handle(rpcJob(L1, 'RecordOrderPaymentByIdV1', { orderId: 'o1', paymentIntentId: 'pi_marked', paidAmount: GBP(100) }));
    assert.ok('result' in paid, JSON.stringify(paid));
    assert.equal(await db.prisma.payment.count({ where: { locationId: L1, paymentIntentId: 'pi_marked' } }), 1);
    await db.prisma.$executeRawUnsafe(`UPDATE orders SET note = 'pos' WHERE location_id = '${L2}'`);
    await expectHeard([L2]); // the later, announced change arrives and the marked one never did
    await db.prisma.$executeRawUnsafe('TRUNCATE order_items');
    await expectHeard(['*']);
  });

  it("announces the platform's own changes after their commit, anyone else's in the transaction", async () => {
    /** A change in a transaction on a connection of its own named `name`: the INFO messages it got, and when. */
    const changeAs = async (name: string | undefined, sql: string) => {
      const c = new Client({ connectionString: db.url, ...(name ? { application_name: name } : {}) });
      const notices: string[] = [];
      c.on('notice', (m) => notices.push(`${m.message}:${m.detail}`));
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query(sql);
        await sleep(100);
        assert.deepEqual(heard, [], 'nothing is announced before the commit');
        const beforeCommit = [...notices];
        await c.query('COMMIT');
        return beforeCommit;
      } finally {
        await c.end();
      }
    };
    // A connection named as the pool's: the trigger raises the location instead of notifying; with nobody to
    // announce it (no ChangeAnnouncer follows this one), nothing is heard.
    assert.deepEqual(await changeAs(`${ANNOUNCES_AFTER_COMMIT_PREFIX}test`, `UPDATE orders SET note = 'own' WHERE location_id = '${L1}'`), [`${ORDER_CHANGED_NOTICE}:${L1}`]);
    await sleep(200);
    assert.deepEqual(heard, []);
    // Any other connection (psql, another tool): notified in its transaction, heard once it commits.
    assert.deepEqual(await changeAs(undefined, `UPDATE orders SET note = 'psql' WHERE location_id = '${L1}'`), []);
    await expectHeard([L1]);
    // The pool (createPrisma): heard after the commit, from its announcer, each location once.
    await db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`UPDATE orders SET note = 'pool' WHERE location_id IN ('${L1}', '${L2}')`);
      await tx.$executeRawUnsafe(`UPDATE order_items SET note = 'pool' WHERE location_id = '${L1}'`);
      await sleep(100);
      assert.deepEqual(heard, [], 'nothing is announced before the commit');
    });
    await waitFor(() => heard.length >= 2 || undefined, 'the announcements');
    await sleep(50);
    assert.deepEqual(heard.splice(0).sort(), [L1, L2].sort());
  });

  it("announces the pool's changes again once its announcer's connection is back", async () => {
    const killed = await db.prisma.$queryRawUnsafe<{ ok: boolean }[]>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'epos-relay announcer' AND datname = current_database()`,
    );
    assert.equal(killed.length, 1, 'the pool has one announcer connection');
    await db.prisma.$executeRawUnsafe(`UPDATE orders SET note = 'after the kill' WHERE location_id = '${L2}'`);
    await expectHeard([L2]);
  });

  it("announces the changes of a pool connection lost in its transaction (its COMMIT's answer may be what was lost)", async () => {
    await assert.rejects(
      db.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`UPDATE orders SET note = 'lost' WHERE location_id = '${L2}'`);
        await tx.$queryRawUnsafe('SELECT pg_terminate_backend(pg_backend_pid())');
      }),
    );
    await expectHeard([L2]);
  });

  it('keeps an announcement that could not go out, and sends it once Postgres answers again', async () => {
    const urls = ['postgresql://postgres:x@127.0.0.1:1/nowhere', db.url];
    const warned: string[] = [];
    const counted = { sent: 0, failed: 0 };
    const counts = { sent: (n: number) => void (counted.sent += n), failed: () => void counted.failed++ };
    const announcer = new ChangeAnnouncer({ url: () => urls.shift() ?? db.url, retryMs: 20, log: { warn: (_o, m) => warned.push(m) }, counts });
    try {
      announcer.announce([L1, L2, L1]);
      await expectHeard([L1, L2]);
      assert.equal(counted.failed, 1, 'the first connection was refused');
      assert.equal(counted.sent, 2);
      assert.equal(warned.length, 1);
    } finally {
      await announcer.close();
    }
  });

  it('goes down when its connection is killed, and listens again by itself', async () => {
    lives.splice(0);
    await db.prisma.$queryRawUnsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'epos-relay change feed' AND datname = current_database()`);
    await waitFor(() => (lives.length >= 2 ? true : undefined), 'down and up again');
    assert.deepEqual(lives, [false, true]);
    assert.ok(feed.isLive);
    await db.prisma.$executeRawUnsafe(`UPDATE orders SET note = 'after' WHERE location_id = '${L2}'`);
    await expectHeard([L2]);
  });
});

/**
 * GATEWAY_READ_CACHE through the gateway app as wired, with a worker behind it: Dojo's reads are answered from the
 * copy, its own changes show at once, a change by anyone else shows once announced, and nothing is served while
 * the announcements cannot be heard.
 */
describe('gateway read cache (GATEWAY_READ_CACHE)', () => {
  let db: TestDatabase;
  let fake: FakeDojo;
  let worker: RpcWorkerHost;
  let gw: TestGateway | undefined;
  let conn: FakeConnection;
  let loc: string;
  let n = 0;

  before(async () => {
    db = await createTestDatabase('rcgw');
    fake = await new FakeDojo().start();
    const prefix = uniquePrefix('rcgw');
    const sh = await fixtures(db.prisma).softwareHouse();
    const location = await fixtures(db.prisma).location({ softwareHouseId: sh.id });
    loc = location.id;
    await fixtures(db.prisma).order(loc, { id: 'C-1', total: 10_000, tableId: 'T1' });
    await fixtures(db.prisma).order(loc, { id: 'C-2', total: 5_000, tableId: 'T1' });
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger: createLogger('test-worker', 'silent'), events: { ingest: async () => ({ eventRowId: '0', duplicate: false }) } });
    worker = new RpcWorkerHost({ redisUrl: testRedisUrl(), prefix, concurrency: 4, handler: (job) => dispatcher.handle(job) });
    worker.start();
    await worker.waitUntilReady();
    gw = await bootGateway(db, { QUEUE_PREFIX: prefix, DOJO_WS_URL: fake.url, GATEWAY_READ_CACHE_GRACE_MS: '300' });
    conn = await waitFor(() => fake.open(location.apiKey)[0], 'link');
  });

  after(async () => {
    await gw?.close().catch(() => undefined); // best effort (teardown)
    await worker?.close();
    await fake?.close();
    await db?.drop();
  });

  const call = async (method: string, params: object) => {
    const id = `rc-${++n}`;
    const reply = await fake.request(conn, { jsonrpc: '2.0', id, method, params: { headers: {}, ...params } }, id);
    assert.ok('result' in reply, `${method}: ${JSON.stringify(reply)}`);
    return reply.result as Record<string, any>;
  };
  const getOrder = (orderId: string) => call('GetOrderByIdV1', { orderId });
  const search = () => call('SearchOrdersV1', { dineIn: { tableId: 'T1' } });
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${gw!.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.split(' ').pop()) : NaN;
  };

  /** Reads C-1 until the cache holds it (past the venue's grace) and a second read is a hit. */
  async function cached(): Promise<void> {
    await waitFor(async () => {
      const hits = await metric('epos_relay_gateway_read_cache_reads_total{result="hit"}');
      await getOrder('C-1');
      await getOrder('C-1');
      return (await metric('epos_relay_gateway_read_cache_reads_total{result="hit"}')) > hits || undefined;
    }, 'C-1 answered from the cache');
  }

  it('answers a read from the copy: a change Postgres does not announce is not seen', async () => {
    await waitFor(async () => ((await metric('epos_relay_gateway_read_cache_live')) === 1 ? true : undefined), 'cache live');
    await cached();
    await unannounced(db.url, `UPDATE orders SET note = 'unannounced' WHERE location_id = '${loc}' AND id = 'C-1'`);
    assert.notEqual((await getOrder('C-1')).note, 'unannounced', 'served from the copy');
  });

  it("shows Dojo's own change in the very next read (the gateway tells its cache before answering)", async () => {
    await cached();
    const before = (await getOrder('C-1')).paidAmount?.value ?? 0;
    const pay = await call('RecordOrderPaymentByIdV1', { orderId: 'C-1', paymentIntentId: `pi_rc_${n}`, paidAmount: GBP(1_250) });
    assert.equal(pay.paidAmount.value, before + 1_250);
    const afterPay = await getOrder('C-1');
    assert.equal(afterPay.paidAmount.value, before + 1_250, JSON.stringify(afterPay));
    assert.equal(afterPay.note, 'unannounced', 'the whole location was read again');
  });

  it('shows a change by anyone else once Postgres has announced it (a search and an order)', async () => {
    await cached();
    const listed = (await search()).data.map((o: { id: string }) => o.id);
    assert.deepEqual(listed.sort(), ['C-1', 'C-2']);
    await db.prisma.$executeRawUnsafe(`UPDATE orders SET note = 'from the POS' WHERE location_id = '${loc}' AND id = 'C-1'`);
    await fixtures(db.prisma).order(loc, { id: 'C-3', total: 700, tableId: 'T1' });
    await waitFor(async () => ((await getOrder('C-1')).note === 'from the POS' ? true : undefined), 'the POS change seen', 2_000);
    await waitFor(async () => ((await search()).data.length === 3 ? true : undefined), 'the new order listed', 2_000);
  });

  it('serves nothing from the copy while the announcements cannot be heard, and resumes once they can', async () => {
    await cached();
    // The feed cannot listen again while the database takes no new connection (the pools keep theirs).
    const dbName = new URL(db.url).pathname.slice(1);
    const other = new URL(db.url);
    other.pathname = '/postgres';
    const allow = async (yes: boolean) => {
      const c = new Client({ connectionString: other.toString() });
      await c.connect();
      try {
        await c.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS ${yes}`);
      } finally {
        await c.end();
      }
    };
    await allow(false);
    try {
      await db.prisma.$queryRawUnsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'epos-relay change feed' AND datname = current_database()`);
      await waitFor(async () => ((await metric('epos_relay_gateway_read_cache_live')) === 0 ? true : undefined), 'the cache off');
      await db.prisma.$transaction([
        db.prisma.$executeRawUnsafe(`SELECT set_config('epos_relay.told_by_gateway', 'on', true)`),
        db.prisma.$executeRawUnsafe(`UPDATE orders SET note = 'while deaf' WHERE location_id = '${loc}' AND id = 'C-1'`),
      ]);
      assert.equal((await getOrder('C-1')).note, 'while deaf', 'read from Postgres at once');
      assert.equal((await getOrder('C-1')).note, 'while deaf');
      assert.equal(await metric('epos_relay_gateway_read_cache_orders'), 0);
    } finally {
      await allow(true);
    }
    await waitFor(async () => ((await metric('epos_relay_gateway_read_cache_live')) === 1 ? true : undefined), 'live again', 20_000);
    await cached();
  });
});

/**
 * The Tables API's session list (FindTableSessions) kept in the copy: the venue's sessions, tables and parties in
 * one answer, dropped on any change to them (the tables' and parties' triggers announce too).
 */
describe('gateway read cache: the Tables API session list', () => {
  let db: TestDatabase;
  let feed: PgChangeFeed;
  let cache: OrderReadCache;
  let reads: RpcDispatcher<unknown, unknown>;
  let loc: string;

  before(async () => {
    db = await createTestDatabase('rctables');
    // Written by a pool that announces in the transaction: the announcements are sent at each commit, before the feed
    // below listens. db.prisma's would go out after the commit, on the announcer's own connection, and one late
    // enough to reach the feed would drop the copy in the middle of the test.
    const setup = createPrisma(db.url, { poolSize: 1, announceAfterCommit: false });
    try {
      const fx = fixtures(setup);
      loc = (await fx.location({ softwareHouseId: (await fx.softwareHouse()).id })).id;
      await fx.table(loc, { id: 'T1', name: 'Table 1', maxCovers: 4 });
      await setup.party.create({ data: { locationId: loc, id: 'P1', covers: 3, tableIds: ['T1'], status: 'Seated', startTime: new Date() } });
      await fx.order(loc, { id: 'S-1', total: 2_000, tableId: 'T1', partyId: 'P1' });
    } finally {
      await setup.$disconnect();
    }
    cache = new OrderReadCache({ maxOrders: 1_000, maxAgeMs: 60_000 });
    feed = new PgChangeFeed({ url: db.url, channel: ORDER_CHANGES_CHANNEL, onChange: (p) => cache.changed(p), onLive: (l) => cache.setLive(l), log: silent });
    await feed.start();
    reads = new RpcDispatcher({ prisma: db.prisma, logger: createLogger('t', 'silent'), events: { ingest: () => Promise.reject(new Error('no events')) }, dialect: dojoTablesDialect(), orderCache: cache });
  });
  after(async () => {
    await feed?.close();
    await db?.drop();
  });

  const listSessions = async () => {
    const r = (await reads.handle({ ...rpcJob(loc, 'SearchOrdersV1', {}), method: 'ListSessions', dialect: 'dojo-tables', params: { isFinished: false } })) as { result?: { sessions: any[] } };
    assert.ok(r.result, JSON.stringify(r));
    return r.result.sessions;
  };

  it('answers the list from the copy, and reads it again after a change to the tables, the parties or the orders', async () => {
    const first = await listSessions();
    assert.equal(first.length, 1);
    const hits = cache.hits;
    assert.deepEqual(await listSessions(), first);
    assert.equal(cache.hits, hits + 1, 'the second list came from the copy');
    await unannounced(db.url, `UPDATE dining_tables SET name = 'Window' WHERE location_id = '${loc}'`);
    assert.deepEqual(await listSessions(), first, 'an unannounced change is not seen');
    for (const [table, sql] of [
      ['dining_tables', `UPDATE dining_tables SET name = 'Garden' WHERE location_id = '${loc}'`],
      ['parties', `UPDATE parties SET covers = 5 WHERE location_id = '${loc}'`],
      ['orders', `UPDATE orders SET note = 'n' WHERE location_id = '${loc}'`],
    ] as const) {
      await listSessions();
      const hits = cache.hits;
      await listSessions();
      assert.equal(cache.hits, hits + 1, `${table}: kept before the change`);
      await db.prisma.$executeRawUnsafe(sql);
      await waitFor(
        async () => {
          const misses = cache.misses;
          await listSessions();
          return cache.misses > misses || undefined;
        },
        `${table}: the list read again after the change`,
        2_000,
      );
    }
    const last = await listSessions();
    assert.ok(JSON.stringify(last).includes('Garden'), JSON.stringify(last));
  });
});
