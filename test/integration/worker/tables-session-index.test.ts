/**
 * A Tables API session id names an order by a UUID the EPOS computes (core/rules tableSessionId). Postgres
 * stores the same value in the generated column orders.session_id, indexed with location_id, so finding the
 * order of a session is an index probe rather than an md5 over every order of the location.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { tableSessionId } from '@app/domain';
import { SessionOrders } from '@app/domain/dialects/dojo-tables/session-orders';
import { listBillItems } from '@app/domain/dialects/dojo-tables/sessions.mapping';
import { ordersRepo } from '@app/domain/repositories/orders.repository';
import type { Tx } from '@app/domain/shared/tx';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';

const MANY = 3000;
// Order ids of every shape the channels send: digits, mixed case, punctuation, non-ASCII, long.
const ODD_IDS = ['1', 'ORD-1', 'ord-1', 'a:b:c', 'café-№7', 'x'.repeat(200), ' spaced id '];

describe('table session lookup by the generated, indexed session_id', () => {
  let db: TestDatabase;
  let loc: string;
  let other: string;

  before(async () => {
    db = await createTestDatabase('sessionidx');
    const fx = fixtures(db.prisma);
    loc = (await fx.location({ name: 'Busy' })).id;
    other = (await fx.location({ name: 'Other' })).id;
    await fx.orders(Array.from({ length: MANY }, (_, i) => ({ locationId: loc, id: `o-${i}`, status: 'Finalized' as const })));
    for (const id of ODD_IDS) await fx.order(loc, { id });
    await fx.order(other, { id: 'ORD-1' });
  });
  after(async () => {
    await db?.drop();
  });

  it('stores for every order the session id core/rules computes', async () => {
    const rows = await db.prisma.order.findMany({ select: { locationId: true, id: true, sessionId: true } });
    assert.equal(rows.length, MANY + ODD_IDS.length + 1);
    for (const r of rows) assert.equal(r.sessionId, tableSessionId(r.locationId, r.id), `order ${r.id}`);
  });

  it('finds the same order from its session id, in its own location only, in any letter case', async () => {
    const repo = ordersRepo(db.prisma);
    for (const id of [...ODD_IDS, 'o-0', `o-${MANY - 1}`]) {
      assert.equal(await repo.orderIdOfSession(loc, tableSessionId(loc, id)), id);
    }
    assert.equal(await repo.orderIdOfSession(loc, tableSessionId(loc, 'ORD-1').toUpperCase()), 'ORD-1');
    assert.equal(await repo.orderIdOfSession(other, tableSessionId(other, 'ORD-1')), 'ORD-1');
    assert.equal(await repo.orderIdOfSession(other, tableSessionId(loc, 'ORD-1')), null, "another venue's session");
    assert.equal(await repo.orderIdOfSession(loc, tableSessionId(loc, 'no-such-order')), null);
    assert.equal(await repo.orderIdOfSession(loc, 'not-a-uuid'), null);
  });

  it('probes the index instead of scanning the location\'s orders', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('ANALYZE orders');
      const plan = await c.query<{ 'QUERY PLAN': string }>(
        'EXPLAIN SELECT o.id FROM orders o WHERE o.location_id = $1::uuid AND o.session_id = $2::uuid LIMIT 1',
        [loc, tableSessionId(loc, 'o-7')],
      );
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(text, /Index (Only )?Scan using orders_location_id_session_id_idx/, text);
      assert.doesNotMatch(text, /Seq Scan/, text);
    } finally {
      await c.end();
    }
  });
});

describe("the Tables API dialect remembers which order a session id names", () => {
  let db: TestDatabase;
  let loc: string;
  let other: string;

  before(async () => {
    db = await createTestDatabase('sessionmem');
    const fx = fixtures(db.prisma);
    loc = (await fx.location({ name: 'Here' })).id;
    other = (await fx.location({ name: 'There' })).id;
    for (const id of ['A', 'B', 'C']) await fx.order(loc, { id });
    await fx.order(other, { id: 'A' });
  });
  after(async () => {
    await db?.drop();
  });

  /** The real database, with its raw statements counted. */
  function counted(): { tx: Tx; lookups: () => number } {
    let n = 0;
    const tx = new Proxy(db.prisma, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (prop === '$queryRaw' && typeof v === 'function') {
          return (...args: unknown[]) => {
            n++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Tx;
    return { tx, lookups: () => n };
  }

  it('looks a session up once, then answers from memory, in any letter case', async () => {
    const { tx, lookups } = counted();
    const mem = new SessionOrders(100);
    const sid = tableSessionId(loc, 'A');
    assert.equal(await mem.orderIdOf(tx, loc, sid), 'A');
    assert.equal(await mem.orderIdOf(tx, loc, sid), 'A');
    assert.equal(await mem.orderIdOf(tx, loc, sid.toUpperCase()), 'A');
    assert.equal(lookups(), 1);
  });

  it("never answers another venue's session id, and looks unknown ids up every time", async () => {
    const { tx, lookups } = counted();
    const mem = new SessionOrders(100);
    assert.equal(await mem.orderIdOf(tx, loc, tableSessionId(loc, 'A')), 'A');
    assert.equal(await mem.orderIdOf(tx, other, tableSessionId(loc, 'A')), null, "loc's session id at the other venue");
    assert.equal(await mem.orderIdOf(tx, other, tableSessionId(other, 'A')), 'A');
    const unknown = tableSessionId(loc, 'no-such-order');
    assert.equal(await mem.orderIdOf(tx, loc, unknown), null);
    assert.equal(await mem.orderIdOf(tx, loc, unknown), null);
    assert.equal(lookups(), 5);
  });

  it('ListBillItems finds the orders of all the session ids it names in one statement, not one per id', async () => {
    const fx = fixtures(db.prisma);
    const ids = Array.from({ length: 200 }, (_, i) => `bulk-${i}`);
    await fx.orders(ids.map((id) => ({ locationId: loc, id })));
    const sessionIds = [
      ...ids.map((id, i) => (i % 2 ? tableSessionId(loc, id) : tableSessionId(loc, id).toUpperCase())),
      tableSessionId(loc, 'no-such-order'),
      tableSessionId(other, 'A'),
      'not-a-uuid',
    ];
    const { tx, lookups } = counted();
    const resolved = await listBillItems.resolve(tx, loc, { sessionIds });
    assert.deepEqual([...(resolved.orderIds ?? [])].sort(), [...ids].sort(), "unknown ids, another venue's and ones that are no UUID are left out");
    assert.equal(lookups(), 1);
    // Remembered from then on: the same list again needs no statement for them.
    const again = await listBillItems.resolve(tx, loc, { sessionIds: sessionIds.slice(0, 200) });
    assert.equal(again.orderIds?.length, 200);
    assert.equal(lookups(), 1);
  });

  it('knows the sessions of listed orders without a lookup, and forgets the oldest past its bound', async () => {
    const { tx, lookups } = counted();
    const mem = new SessionOrders(2);
    mem.learn(['A', 'B'].map((orderId) => ({ locationId: loc, sessionId: tableSessionId(loc, orderId), orderId })));
    assert.equal(await mem.orderIdOf(tx, loc, tableSessionId(loc, 'A')), 'A');
    assert.equal(await mem.orderIdOf(tx, loc, tableSessionId(loc, 'B')), 'B');
    assert.equal(lookups(), 0);
    assert.equal(await mem.orderIdOf(tx, loc, tableSessionId(loc, 'C')), 'C'); // looked up; A is forgotten
    assert.equal(await mem.orderIdOf(tx, loc, tableSessionId(loc, 'A')), 'A');
    assert.equal(lookups(), 2);
  });
});
