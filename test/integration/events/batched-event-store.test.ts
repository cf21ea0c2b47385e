import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BatchedDojoEventStore } from '@app/domain/events/batched-event-store';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { rawOnPg } from '@app/domain/repositories/unit-of-work';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createPrisma } from '@app/db';
import { createTestDatabase, fixtures } from '@app/testing';
import { eventPayload } from './fixtures';

describe('BatchedDojoEventStore: the store() calls of one turn in one statement', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let a: LocationFixture;
  let b: LocationFixture;
  const at = new Date('2026-11-30T10:00:00.000Z');

  before(async () => {
    db = await createTestDatabase('events-batch');
    fx = fixtures(db.prisma);
    a = await fx.location();
    b = await fx.location();
  });

  after(async () => {
    await db?.drop();
  });

  const rows = (accountId: string) => db.prisma.dojoEvent.findMany({ where: { dojoAccountId: accountId }, orderBy: { eventId: 'asc' } });

  it('stores each event once, counts every delivery, and says which call inserted', async () => {
    const repo = new DojoEventsRepository(rawOnPg(db.prisma));
    let batches = 0;
    const storeMany = repo.storeMany.bind(repo);
    repo.storeMany = (items) => {
      batches++;
      return storeMany(items);
    };
    const store = new BatchedDojoEventStore(repo);
    const ev = (loc: LocationFixture, id: string) => eventPayload(loc.dojoAccountId, id, 'payment_intent.status_updated', `pi_${id}`, 'Authorized', at);
    // Stored before: this turn's delivery of it is a duplicate.
    await store.store(a.id, ev(a, 'e0'), 'webhook', at);
    const calls = [
      store.store(a.id, ev(a, 'e1'), 'webhook', at),
      store.store(a.id, ev(a, 'e1'), 'webhook', at), // the same event twice in one turn
      store.store(b.id, ev(b, 'e1'), 'socket', at), // same event id, other account: its own row
      store.store(a.id, ev(a, 'e0'), 'webhook', at),
      store.store(b.id, ev(a, 'e2'), 'webhook', at), // a's account at b: not b's, nothing stored
      store.store(a.id, ev(a, 'e3'), 'webhook', at),
    ];
    const out = await Promise.all(calls);
    assert.equal(batches, 1, 'one statement for the turn');
    assert.deepEqual(out.map((r) => r && r.inserted), [true, false, true, false, undefined, true]);
    assert.equal(out[0]!.id, out[1]!.id);
    assert.notEqual(out[0]!.id, out[2]!.id);
    assert.ok(out.every((r) => r === undefined || r.state === 'received'));
    const ra = await rows(a.dojoAccountId);
    assert.deepEqual(ra.map((r) => [r.eventId, r.deliveries, r.locationId]), [['e0', 2, a.id], ['e1', 2, a.id], ['e3', 1, a.id]]);
    assert.equal(ra.find((r) => r.eventId === 'e1')!.id, out[0]!.id);
    const rb = await rows(b.dojoAccountId);
    assert.deepEqual(rb.map((r) => [r.eventId, r.deliveries, r.channel, r.paymentIntentId]), [['e1', 1, 'socket', 'pi_e1']]);
  });

  it('does not wait on a row being applied while holding others: the rest of the batch is answered first', async () => {
    const store = new BatchedDojoEventStore(new DojoEventsRepository(rawOnPg(db.prisma)));
    const ev = (id: string) => eventPayload(a.dojoAccountId, id, 'payment_intent.status_updated', `pi_${id}`, 'Authorized', at);
    await Promise.all([store.store(a.id, ev('g1'), 'webhook', at), store.store(a.id, ev('g2'), 'webhook', at)]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    // An events worker's transaction holding g1's row.
    const tx = db.prisma.$transaction(async (t) => {
      await t.$queryRaw`SELECT 1 FROM dojo_events WHERE dojo_account_id = ${a.dojoAccountId} AND event_id = 'g1' FOR UPDATE`;
      locked();
      await held;
    }, { timeout: 20_000 });
    await isLocked;
    const g1 = store.store(a.id, ev('g1'), 'webhook', at);
    const rest = Promise.all([store.store(a.id, ev('g2'), 'webhook', at), store.store(a.id, ev('g3'), 'webhook', at)]);
    let g1Done = false;
    void g1.then(() => (g1Done = true));
    const [r2, r3] = await rest;
    assert.equal(g1Done, false, 'the locked repeat waits');
    assert.deepEqual([r2!.inserted, r3!.inserted], [false, true]);
    release();
    await tx;
    assert.equal((await g1)!.inserted, false);
    const byId = new Map((await rows(a.dojoAccountId)).map((r) => [r.eventId, r.deliveries]));
    assert.deepEqual([byId.get('g1'), byId.get('g2'), byId.get('g3')], [2, 2, 1]);
  });

  it('counts repeats with a statement Postgres plans once per connection, not on every call', async () => {
    // One connection with named statements, as the webhook app runs them: its prepared statements are all on it.
    const one = createPrisma(db.url, { poolSize: 1, preparedStatements: true });
    try {
      // A venue's history, analysed: the table a running platform has (on a near-empty one every plan is cheap).
      await db.prisma.$executeRaw`
        INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, occurred_at, channel, payload, state)
        SELECT gen_random_uuid(), ${a.id}::uuid, ${a.dojoAccountId}, 'hist_' || g, 'payment_intent.status_updated', now(), 'webhook', '{}'::jsonb, 'applied'
          FROM generate_series(1, 20000) g`;
      await db.prisma.$executeRaw`ANALYZE dojo_events`;
      const repo = new DojoEventsRepository(rawOnPg(one));
      const ev = (id: string) => eventPayload(a.dojoAccountId, id, 'payment_intent.status_updated', `pi_${id}`, 'Authorized', at);
      const item = (id: string) => ({ locationId: a.id, payload: ev(id), channel: 'webhook' as const, occurred: at });
      await repo.storeMany([item('p1'), item('p2'), item('p3')]);
      for (let i = 0; i < 8; i++) {
        const out = await repo.storeMany([item('p1'), item('p2'), item('p3'), item(`p_new_${i}`)]);
        assert.deepEqual(out.map((r) => r?.inserted), [false, false, false, true]);
      }
      const [plans] = await rawOnPg(one).$queryRaw<{ custom: number; generic: number }[]>`
        SELECT custom_plans::int AS custom, generic_plans::int AS generic FROM pg_prepared_statements
         WHERE statement LIKE '%SET deliveries = e.deliveries + b.n%'`;
      assert.ok(plans, 'the repeats statement is a prepared statement of the connection');
      assert.deepEqual(plans, { custom: 5, generic: 3 }, 'five plans for the values given, then the kept one');
      const byId = new Map((await rows(a.dojoAccountId)).map((r) => [r.eventId, r.deliveries]));
      assert.deepEqual([byId.get('p1'), byId.get('p2'), byId.get('p3')], [9, 9, 9]);
    } finally {
      await one.$disconnect();
    }
  });

  it('tries each item on its own when the batch statement fails, so one bad item fails only its caller', async () => {
    const repo = new DojoEventsRepository(rawOnPg(db.prisma));
    const store = new BatchedDojoEventStore(repo);
    const good = eventPayload(a.dojoAccountId, 'f1', 'payment_intent.status_updated', 'pi_f1', 'Captured', at);
    // Postgres refuses NUL in text: this item makes the multi-row statement fail as a whole.
    const bad = eventPayload(a.dojoAccountId, 'f2\u0000', 'payment_intent.status_updated', 'pi_f2', 'Captured', at);
    const [ok, failed] = await Promise.allSettled([store.store(a.id, good, 'webhook', at), store.store(a.id, bad, 'webhook', at)]);
    assert.equal(ok.status, 'fulfilled');
    assert.equal(ok.status === 'fulfilled' && ok.value?.inserted, true);
    assert.equal(failed.status, 'rejected');
    assert.deepEqual((await rows(a.dojoAccountId)).filter((r) => r.eventId.startsWith('f')).map((r) => r.eventId), ['f1']);
  });
});
