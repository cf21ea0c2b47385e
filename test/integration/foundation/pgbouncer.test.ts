import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { startWorker } from '../../../apps/worker/src/main';
import type { RunningApp } from '@app/common';
import { ALL_CAPABILITIES } from '@app/contracts';
import { createPrisma, migrate, ORDER_CHANGES_CHANNEL } from '@app/db';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { PgBouncerProcess } from '../../support/pgbouncer';
import type { FakeConnection } from '../gateway/support/fake-dojo';
import { FakeDojo } from '../gateway/support/fake-dojo';
import type { TestGateway } from '../gateway/support/harness';
import { bootGateway } from '../gateway/support/harness';
import { GBP, seedVenue } from '../worker/fixtures';

/**
 * Issue 17: the platform through a real PgBouncer in transaction pooling mode
 * (a server connection per transaction, so no session state survives between
 * two statements): the migrator, the request path (gateway and two workers) and
 * a payment race all go through it.
 */
describe('through PgBouncer (transaction pooling)', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let bouncer: PgBouncerProcess;
  let viaBouncer: string;
  let fake: FakeDojo;
  let gw: TestGateway | undefined;
  const workers: RunningApp[] = [];
  let loc: LocationFixture;
  let conn: FakeConnection;

  before(async () => {
    db = await createTestDatabase('pgbouncer');
    fx = fixtures(db.prisma);
    // A small pool: many clients share few server connections, so session state would leak between them.
    bouncer = await PgBouncerProcess.start(db.url, 4);
    viaBouncer = bouncer.via(db.url);
    fake = await new FakeDojo().start();
    loc = await fx.location({ capabilities: ALL_CAPABILITIES });
    await seedVenue(fx, loc.id);
    const prefix = uniquePrefix('pgb');
    const env = (extra: Record<string, string> = {}) =>
      appEnv({ ...db, url: viaBouncer }, { QUEUE_PREFIX: prefix, DOJO_WS_URL: fake.url, DOJO_API_URL: 'http://127.0.0.1:9', ...extra }) as Record<string, string>;
    // RPC_CONCENTRATE off: the requests go to both workers in turn, so the race below is one between the two processes.
    for (let i = 0; i < 2; i++) workers.push(await startWorker(env({ WORKER_CONCURRENCY: '8', DB_POOL_SIZE: '6', RPC_CONCENTRATE: 'false' })));
    gw = await bootGateway(db, env());
    conn = await waitFor(() => fake.open(loc.apiKey)[0], 'the venue linked', 15_000);
  });

  after(async () => {
    await gw?.close().catch(() => undefined); // best effort (teardown)
    for (const w of workers) await w.close().catch(() => undefined); // best effort (teardown)
    await fake?.close();
    await bouncer?.stop();
    await db?.drop();
  });

  const call = (method: string, params: object, id = `r-${Math.random().toString(36).slice(2)}`) =>
    fake.request(conn, { jsonrpc: '2.0', id, method, params: { headers: {}, ...params } }, id, 15_000);

  it('migrates: concurrent migrators through PgBouncer agree, and leave no advisory lock behind', async () => {
    const reports = await Promise.all([migrate(viaBouncer), migrate(viaBouncer), migrate(viaBouncer)]);
    for (const r of reports) {
      assert.deepEqual(r.applied, []);
      assert.ok(r.alreadyApplied.length > 0);
    }
    const direct = new Client({ connectionString: db.url });
    await direct.connect();
    // This database's locks only: the server is shared with the test files running beside this one.
    try {
      const { rows } = await direct.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()");
      assert.equal(Number(rows[0]!.n), 0, 'no advisory lock held by a pooled server connection');
    } finally {
      await direct.end();
    }
  });

  it("keeps the gateway's read cache off: LISTEN through transaction pooling hears nothing, and the probe finds out", async () => {
    // DATABASE_LISTEN_URL is not set, so the change feed listens through PgBouncer: LISTEN returns, but a
    // notification sent from another connection never arrives. Reads all go to Postgres.
    const text = await (await fetch(`${gw!.url}/metrics`)).text();
    assert.match(text, /^epos_relay_gateway_read_cache_live 0$/m);
    assert.match(text, /^epos_relay_gateway_read_cache_orders 0$/m);
  });

  it('serves the request path: search, lock, pay, unlock', async () => {
    await fx.order(loc.id, { id: 'PB-1', total: 3_000, tableId: 'T1' });
    const found = await call('SearchOrdersV1', { dineIn: { tableId: 'T1' }, payableOnly: true });
    assert.deepEqual(found.result?.data?.map((o: { id: string }) => o.id), ['PB-1'], JSON.stringify(found));
    const expiry = new Date(Date.now() + 60_000).toISOString();
    assert.ok((await call('CreateOrderLockV1', { orderId: 'PB-1', lockId: 'lk', expiry })).result);
    const paid = await call('RecordOrderPaymentByIdV1', { orderId: 'PB-1', paymentIntentId: 'pi_pb_1', paidAmount: GBP(3_000), lockId: 'lk' });
    assert.equal(paid.result?.paidAmount?.value, 3_000, JSON.stringify(paid));
    // The same id again: the stored answer, not a second payment.
    const again = await call('RecordOrderPaymentByIdV1', { orderId: 'PB-1', paymentIntentId: 'pi_pb_1', paidAmount: GBP(3_000), lockId: 'lk' });
    assert.equal(again.result?.paidAmount?.value, 3_000);
    assert.ok((await call('DeleteOrderLockV1', { orderId: 'PB-1', lockId: 'lk' })).result);
    assert.equal(await db.prisma.payment.count({ where: { locationId: loc.id, orderId: 'PB-1' } }), 1);
  });

  it('a payment race over two workers never overpays and never loses an update', async () => {
    await fx.order(loc.id, { id: 'PB-RACE', total: 10_000 });
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, i) => call('RecordOrderPaymentByIdV1', { orderId: 'PB-RACE', paymentIntentId: `pi_race_${i}`, paidAmount: GBP(1_000) })),
    );
    const ok = replies.filter((r) => r.result);
    const refused = replies.filter((r) => r.error);
    assert.equal(ok.length, 10, JSON.stringify(refused.filter((r) => r.error.errorType !== 'Conflict')));
    assert.ok(refused.every((r) => r.error.errorType === 'Conflict'), JSON.stringify(refused.map((r) => r.error)));
    const order = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'PB-RACE' } } });
    assert.equal(order.paidAmount, 10_000n);
    assert.equal(await db.prisma.payment.count({ where: { locationId: loc.id, orderId: 'PB-RACE' } }), 10);
    const seen = ok.map((r) => r.result.paidAmount.value as number).sort((a, b) => a - b);
    assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => (i + 1) * 1_000));
  });

  it("announces the pool's order changes after the commit through the pooler (its name and the trigger's INFO pass)", async () => {
    // A listener straight on Postgres, as DATABASE_LISTEN_URL would give a gateway; the pool and its announcer through PgBouncer.
    const heard: string[] = [];
    const listener = new Client({ connectionString: db.url });
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.connect();
    // The fixture is written by a pool that announces in its transactions, before the listener listens: nothing of it
    // can reach the listener late and stand in for the pooled change's announcement.
    const setup = createPrisma(db.url, { poolSize: 1, announceAfterCommit: false });
    try {
      await fixtures(setup).order(loc.id, { id: 'PB-A', total: 1_000 });
    } finally {
      await setup.$disconnect();
    }
    const pooled = createPrisma(viaBouncer, { poolSize: 2, app: 'pgbouncer-test' });
    try {
      await listener.query(`LISTEN ${ORDER_CHANGES_CHANNEL}`);
      const names: string[] = [];
      await pooled.$transaction(async (tx) => {
        names.push(...(await tx.$queryRawUnsafe<{ name: string }[]>('SELECT current_setting($1) AS name', 'application_name')).map((r) => r.name));
        await tx.$executeRawUnsafe(`UPDATE orders SET note = 'via the pooler' WHERE location_id = '${loc.id}' AND id = 'PB-A'`);
      });
      assert.deepEqual(names, ['epos-relay/pgbouncer-test'], 'the server connection PgBouncer lent carries the pool\'s name');
      await waitFor(() => heard.includes(loc.id) || undefined, 'the change announced after its commit');
    } finally {
      await pooled.$disconnect();
      await listener.end();
    }
  });
});
