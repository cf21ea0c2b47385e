import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from '@app/db';
import { enqueuePosEvent } from '@app/domain';
import { DomainError } from '@app/domain/admin';
import { DispatchOutbox, OutboxRepository, rawOnPg } from '@app/domain/outbox';
import { LocationCredentials } from '@app/domain/payment-intents';
import { DojoClient } from '@app/dojo-client';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, TEST_ENCRYPTION_KEY } from '@app/testing';
import { DojoStandIn } from '../admin/support/dojo-stand-in';
import { sandboxKey } from '../admin/support/helpers';

// One outbox pass over several locations: credentials come from one query and the delivered rows are marked sent in
// one statement, so each location's events must still go out with that location's own key and reseller, and every
// row of a delivered entity that was pending at the claim must end up sent (only the head row counts an attempt).
// Passes here wait for all their sends (passWaitMs, a minute), so each pass's result is exact on a loaded machine too;
// the last test is about a pass that stops waiting.
describe('outbox pass over several locations (batched credentials and marking)', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  const box = new SecretBox(TEST_ENCRYPTION_KEY);
  const locs = [
    { id: '1c0e5d3a-6a0b-4e8e-9d11-000000000001', key: sandboxKey(), reseller: 'rs_1' },
    { id: '1c0e5d3a-6a0b-4e8e-9d11-000000000002', key: sandboxKey(), reseller: null },
  ];

  before(async () => {
    db = await createTestDatabase('outboxbatch');
    dojo = await new DojoStandIn().start();
    const fx = fixtures(db.prisma, box);
    const sh = await fx.softwareHouse({ name: 'SH', dojoId: 'sh-batch', resellerId: 'rs_sh' });
    for (const [i, l] of locs.entries()) {
      await fx.location({ id: l.id, softwareHouseId: sh.id, name: `V${i}`, dojoAccountId: `acc_batch_${i}`, apiKey: l.key, capabilities: [], resellerId: l.reseller });
    }
  });

  after(async () => {
    await dojo?.stop();
    await db?.drop();
  });

  it('sends each event with its own location key in one pass and marks every settled row sent', async () => {
    await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'A', { orderId: 'A' });
    await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'A', { orderId: 'A' });
    await enqueuePosEvent(db.prisma, locs[0]!.id, 'PartyUpdated', 'P', { partyId: 'P' });
    await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', 'A', { orderId: 'A' });
    const dispatch = new DispatchOutbox(
      { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1 }) },
      { backoffBaseMs: 100, backoffMaxMs: 200, passWaitMs: 60_000 },
    );
    const r = await dispatch.execute();
    assert.deepEqual(r, { sent: 3, failed: 0, retried: 0, more: false });

    const sent = dojo.find((x) => x.path === '/epos/events');
    assert.equal(sent.length, 3, 'one send per entity: the second A row of location 0 rides on the first');
    const auth = (k: string) => `Basic ${k}`;
    assert.equal(sent.filter((x) => x.headers.authorization === auth(locs[0]!.key)).length, 2);
    assert.equal(sent.filter((x) => x.headers.authorization === auth(locs[1]!.key)).length, 1);
    for (const x of sent) {
      assert.equal(x.headers['software-house-id'], 'sh-batch');
      assert.equal(x.headers['reseller-id'], x.headers.authorization === auth(locs[0]!.key) ? 'rs_1' : 'rs_sh');
    }

    const rows = await db.prisma.outboxEvent.findMany({ orderBy: { id: 'asc' } });
    assert.ok(rows.every((x) => x.state === 'sent' && x.sentAt), 'every row sent');
    assert.deepEqual(
      rows.map((x) => x.attempts),
      [1, 0, 1, 1],
      'only the head row of each entity counts an attempt',
    );
    assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 0, retried: 0, more: false }, 'nothing left');
  });

  it('says a pass that claimed a full batch may have left more due, and one that claimed less has not', async () => {
    await db.prisma.$executeRaw`UPDATE outbox_events SET state = 'sent' WHERE state = 'pending'`;
    for (const e of ['F1', 'F2', 'F3']) await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', e, { orderId: e });
    const dispatch = new DispatchOutbox(
      { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1 }) },
      { batchSize: 2, backoffBaseMs: 100, backoffMaxMs: 200, passWaitMs: 60_000 },
    );
    assert.deepEqual(await dispatch.execute(), { sent: 2, failed: 0, retried: 0, more: true });
    assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: false });
  });

  it('a helping pass sends only rows due for helpAfterMs; the first dispatcher sends every due row', async () => {
    await db.prisma.$executeRaw`UPDATE outbox_events SET state = 'sent' WHERE state = 'pending'`;
    await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'NEW', { orderId: 'NEW' });
    await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', 'OLD', { orderId: 'OLD' });
    await db.prisma.$executeRaw`UPDATE outbox_events SET next_attempt_at = now() - interval '2 minutes' WHERE entity_id = 'OLD'`;
    let helping = true;
    const dispatch = new DispatchOutbox(
      { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1 }) },
      { backoffBaseMs: 100, backoffMaxMs: 200, passWaitMs: 60_000, helping: () => helping, helpAfterMs: 60_000 },
    );
    const before = dojo.find((x) => x.path === '/epos/events').length;
    assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: false }, 'helping: only the row due for 2 minutes');
    const helped = dojo.find((x) => x.path === '/epos/events').slice(before);
    assert.deepEqual(helped.map((x) => x.body?.event?.orderId), ['OLD']);
    const fresh = await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId: 'NEW' } });
    assert.equal(fresh.state, 'pending', 'a row due for less than helpAfterMs is left to the first dispatcher');
    assert.equal(fresh.attempts, 0);
    assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 0, retried: 0, more: false }, 'still helping: nothing overdue');

    helping = false;
    assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: false }, 'first: every due row');
    assert.equal((await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId: 'NEW' } })).state, 'sent');
  });

  it('marks only the delivered rows of a pass: a failed send stays pending with its attempt counted', async () => {
    await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'OK', { orderId: 'OK' });
    await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', 'BAD', { orderId: 'BAD' });
    const stop = dojo.respond((x) => (x.path === '/epos/events' && x.body?.event?.orderId === 'BAD' ? { status: 503 } : undefined));
    try {
      const dispatch = new DispatchOutbox(
        { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1 }) },
        { backoffBaseMs: 60_000, backoffMaxMs: 60_000, passWaitMs: 60_000 },
      );
      assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 1, more: false });
    } finally {
      stop();
    }
    const ok = await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId: 'OK' } });
    const bad = await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId: 'BAD' } });
    assert.equal(ok.state, 'sent');
    assert.equal(bad.state, 'pending');
    assert.equal(bad.attempts, 1);
    assert.match(bad.lastError ?? '', /503/);
  });

  it("never sends a Tables API key or a Connect token to Dojo: such a location queues no POS event, and a row left from before a switch is discarded", async () => {
    const fx = fixtures(db.prisma, box);
    const connect = await fx.location({ name: 'PAT', protocol: 'connect-pat', apiKey: 'connect-token-pat-0001', registrationState: 'not_required' });
    await enqueuePosEvent(db.prisma, connect.id, 'OrderUpdated', 'C1', { orderId: 'C1' });
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: connect.id } }), 0, 'no POS event at a Connect location');

    // Written while the venue spoke EPOS Data, still pending when it switched to the Tables API.
    const switched = await fx.location({ name: 'Switched', apiKey: sandboxKey() });
    await enqueuePosEvent(db.prisma, switched.id, 'OrderUpdated', 'S1', { orderId: 'S1' });
    await db.prisma.location.update({
      where: { id: switched.id },
      data: { protocol: 'dojo-tables', apiKeyCiphertext: fx.encryptApiKey(switched.id, 'tables-key-0001'), registrationState: 'not_required' },
    });
    const before = dojo.find((x) => x.path === '/epos/events').length;
    const dispatch = new DispatchOutbox(
      { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1 }) },
      { backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
    );
    assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 1, retried: 0, more: false });
    assert.equal(dojo.find((x) => x.path === '/epos/events').length, before, 'nothing went to Dojo');
    const row = await db.prisma.outboxEvent.findFirstOrThrow({ where: { locationId: switched.id } });
    assert.equal(row.state, 'discarded');
    assert.match(row.discardReason ?? '', /dojo-tables/);

    // Online payments need a Dojo API key too: refused before Dojo is asked.
    const creds = new LocationCredentials(db.prisma, box);
    await assert.rejects(creds.forLocation(switched.id), (err: unknown) => err instanceof DomainError && err.kind === 'conflict' && err.details.error === 'no_dojo_api_key');
    await assert.rejects(creds.forLocation(connect.id), (err: unknown) => err instanceof DomainError && err.details.error === 'no_dojo_api_key');
    assert.equal((await creds.forLocation(locs[0]!.id)).apiKey, locs[0]!.key, 'an EPOS Data location has its key');
  });

  describe('Dojo unavailable: retried for as long as it takes; only failures that are not an outage count to a dead letter', () => {
    const due = (entityId: string) => db.prisma.$executeRaw`UPDATE outbox_events SET next_attempt_at = now() WHERE entity_id = ${entityId} AND state = 'pending'`;
    const rowOf = (entityId: string) => db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId } });
    const dispatcher = () =>
      new DispatchOutbox(
        { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1, timeoutMs: 1_000 }) },
        { backoffBaseMs: 100, backoffMaxMs: 600_000, maxAttempts: 3, passWaitMs: 60_000 },
      );

    it('an outage outlasting maxAttempts never makes a POS event dead: its count stops one short and it goes on at the longest backoff; it is sent once Dojo answers', async () => {
      await db.prisma.$executeRaw`UPDATE outbox_events SET state = 'sent' WHERE state = 'pending'`;
      await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'OUT', { orderId: 'OUT' });
      const answers = [{ status: 503 }, { status: 0 }, { status: 502 }, { status: 408 }, { status: 500 }];
      let answer: { status: number } | undefined;
      // Status 0 stands for no answer at all (the call times out), as when Dojo is unreachable.
      const stop = dojo.respond((x) =>
        x.path === '/epos/events' && x.body?.event?.orderId === 'OUT' ? (answer?.status === 0 ? new Promise<undefined>(() => undefined) : answer) : undefined,
      );
      try {
        const dispatch = dispatcher();
        for (const [i, a] of answers.entries()) {
          answer = a;
          await due('OUT');
          assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 0, retried: 1, more: false }, `failure ${i + 1}: ${a.status || 'no answer'}`);
          const row = await rowOf('OUT');
          assert.equal(row.state, 'pending', `failure ${i + 1}`);
          assert.equal(row.attempts, Math.min(i + 1, 2), 'counted up to one short of maxAttempts');
        }
        // Held one short: the longest backoff (jittered down by at most a quarter), not a short one that keeps hammering Dojo.
        const wait = (await rowOf('OUT')).nextAttemptAt.getTime() - Date.now();
        assert.ok(wait > 0.7 * 600_000, `next attempt in ${wait} ms`);

        answer = undefined;
        await due('OUT');
        assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: false });
        assert.equal((await rowOf('OUT')).state, 'sent');
      } finally {
        stop();
      }
    });

    it('a failure that is not an outage (401) still counts to a dead letter, also after an outage', async () => {
      await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'KEY', { orderId: 'KEY' });
      let status = 503;
      const stop = dojo.respond((x) => (x.path === '/epos/events' && x.body?.event?.orderId === 'KEY' ? { status, body: { title: 'no' } } : undefined));
      try {
        const dispatch = dispatcher();
        for (let i = 0; i < 4; i++) {
          await due('KEY');
          await dispatch.execute();
        }
        assert.deepEqual([(await rowOf('KEY')).state, (await rowOf('KEY')).attempts], ['pending', 2]);
        status = 401;
        await due('KEY');
        assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 1, retried: 0, more: false });
        const row = await rowOf('KEY');
        assert.deepEqual([row.state, row.attempts], ['dead', 3]);
        assert.match(row.lastError ?? '', /401/);
      } finally {
        stop();
      }
    });

    it("waits out Dojo's Retry-After (429, 503) in next_attempt_at, up to the longest backoff", async () => {
      await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'SLOW', { orderId: 'SLOW' });
      await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', 'LONG', { orderId: 'LONG' });
      const stop = dojo.respond((x) => {
        if (x.path !== '/epos/events') return undefined;
        if (x.body?.event?.orderId === 'SLOW') return { status: 429, headers: { 'retry-after': '120' } };
        if (x.body?.event?.orderId === 'LONG') return { status: 503, headers: { 'retry-after': '86400' } };
        return undefined;
      });
      try {
        const t0 = Date.now();
        assert.deepEqual(await dispatcher().execute(), { sent: 0, failed: 0, retried: 2, more: false });
        const slow = (await rowOf('SLOW')).nextAttemptAt.getTime() - t0;
        assert.ok(slow >= 119_000 && slow < 125_000, `Retry-After: 120 -> next attempt in ${slow} ms (the backoff alone would be 100 ms)`);
        const long = (await rowOf('LONG')).nextAttemptAt.getTime() - t0;
        assert.ok(long >= 599_000 && long < 605_000, `Retry-After: a day -> the longest backoff (600 s), ${long} ms`);
      } finally {
        stop();
      }
    });
  });

  it('a row made due with now() is claimed by a pass right after it, although the column rounds now() to the ms (up to 0.5 ms ahead)', async () => {
    await db.prisma.$executeRaw`UPDATE outbox_events SET state = 'sent' WHERE state = 'pending'`;
    await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'NOW', { orderId: 'NOW' });
    const outbox = new OutboxRepository(rawOnPg(db.prisma));
    // Each round makes the row due with the statement's now() and claims at once: before the claim compared at the
    // column's precision, about half of such claims (those where now() was rounded up) found nothing.
    const missed: number[] = [];
    for (let i = 0; i < 30; i++) {
      await db.prisma.$executeRaw`UPDATE outbox_events SET next_attempt_at = now() WHERE entity_id = 'NOW' AND state = 'pending'`;
      const claimed = await outbox.claimAcrossLocations(10, 60_000, 10);
      if (claimed.length !== 1) missed.push(i);
    }
    assert.deepEqual(missed, [], 'rounds whose claim found the due row not yet due');
    await db.prisma.$executeRaw`UPDATE outbox_events SET state = 'sent' WHERE entity_id = 'NOW'`;
  });

  it('a slow location holds up no pass: the delivered rows are marked and the pass returns; the slow send settles in the background, its row leased', async () => {
    await db.prisma.$executeRaw`UPDATE outbox_events SET state = 'sent' WHERE state = 'pending' AND next_attempt_at <= now()`;
    let answerSlow!: () => void;
    const slowAnswered = new Promise<void>((r) => (answerSlow = r));
    const stop = dojo.respond(async (x) => (x.path === '/epos/events' && x.body?.event?.orderId === 'SLOW-LOC' ? (await slowAnswered, { status: 200, body: {} }) : undefined));
    const slowCalls = () => dojo.find((x) => x.path === '/epos/events' && x.body?.event?.orderId === 'SLOW-LOC').length;
    try {
      await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', 'SLOW-LOC', { orderId: 'SLOW-LOC' });
      await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'FAST-1', { orderId: 'FAST-1' });
      await enqueuePosEvent(db.prisma, locs[0]!.id, 'PartyUpdated', 'FAST-2', { partyId: 'FAST-2' });
      const dispatch = new DispatchOutbox(
        { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1, timeoutMs: 30_000 }) },
        { batchSize: 3, backoffBaseMs: 100, backoffMaxMs: 200, passWaitMs: 2_000 },
      );
      const t0 = Date.now();
      assert.deepEqual(await dispatch.execute(), { sent: 2, failed: 0, retried: 0, more: true });
      // It returned although the slow location has not answered (it answers only once the test lets it, below).
      assert.ok(Date.now() - t0 < 10_000, `the pass returned after ${Date.now() - t0} ms`);
      const state = async (entityId: string) => (await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId } })).state;
      assert.deepEqual([await state('FAST-1'), await state('FAST-2'), await state('SLOW-LOC')], ['sent', 'sent', 'pending']);

      // The next pass goes on while the slow send is out: a new event is sent, the leased row is not sent twice.
      await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'FAST-3', { orderId: 'FAST-3' });
      assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: false }, 'room for 2 (one send is out), 1 due');
      assert.equal(await state('FAST-3'), 'sent');
      assert.equal(slowCalls(), 1);

      answerSlow();
      await dispatch.drain();
      assert.equal(await state('SLOW-LOC'), 'sent', 'settled once it answered');
      assert.equal((await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId: 'SLOW-LOC' } })).attempts, 1);
      assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: false }, 'the late delivery is reported by the next pass');
      assert.equal(slowCalls(), 1);
    } finally {
      answerSlow();
      stop();
    }
  });

  describe('a share per location: a backlog or a slow location never takes a whole batch', () => {
    const settleAll = () => db.prisma.$executeRaw`UPDATE outbox_events SET state = 'sent' WHERE state = 'pending'`;
    const dispatcher = (o: { batchSize: number; perLocation: number; passWaitMs: number }) =>
      new DispatchOutbox(
        { outbox: new OutboxRepository(rawOnPg(db.prisma)), secretBox: box, dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1, timeoutMs: 30_000 }) },
        { backoffBaseMs: 100, backoffMaxMs: 200, ...o },
      );
    const state = async (entityId: string) => (await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId } })).state;

    it("a location's older backlog leaves room for another's events in the same pass, and its share says more may be due", async () => {
      await settleAll();
      for (const e of ['B1', 'B2', 'B3', 'B4']) await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', e, { orderId: e });
      for (const e of ['N1', 'N2']) await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', e, { orderId: e });
      const dispatch = dispatcher({ batchSize: 5, perLocation: 2, passWaitMs: 60_000 });
      assert.deepEqual(await dispatch.execute(), { sent: 4, failed: 0, retried: 0, more: true }, 'two of the backlog and both of the other location');
      assert.deepEqual(
        [await state('B1'), await state('B2'), await state('B3'), await state('B4'), await state('N1'), await state('N2')],
        ['sent', 'sent', 'pending', 'pending', 'sent', 'sent'],
        'the backlog goes oldest first',
      );
      assert.deepEqual(await dispatch.execute(), { sent: 2, failed: 0, retried: 0, more: true }, 'the rest of the backlog, its share again');
      assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 0, retried: 0, more: false });
    });

    it("a fast location's backlog far larger than a batch never hides another location's newer event", async () => {
      await settleAll();
      const backlog = Array.from({ length: 15 }, (_, i) => `BIG-${i}`);
      for (const e of backlog) await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', e, { orderId: e });
      await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'SMALL-1', { orderId: 'SMALL-1' });
      const dispatch = dispatcher({ batchSize: 3, perLocation: 2, passWaitMs: 60_000 });
      assert.deepEqual(await dispatch.execute(), { sent: 3, failed: 0, retried: 0, more: true }, "two of the backlog's oldest and the other location's one");
      assert.equal(await state('SMALL-1'), 'sent', 'not held behind fifteen older rows of another location (five batches of them)');
      let passes = 1;
      while ((await dispatch.execute()).more) passes++;
      assert.ok((await db.prisma.outboxEvent.count({ where: { state: 'pending', entityId: { in: backlog } } })) === 0, 'the backlog drained');
      assert.ok(passes >= 7, `two per pass (its share): ${passes} passes`);
    });

    it('a slow location with many rows due holds only its share of slots; its other rows wait until its sends are back', async () => {
      await settleAll();
      let answerSlow!: () => void;
      const slowAnswered = new Promise<void>((r) => (answerSlow = r));
      const isSlow = (x: { path: string; body?: { event?: { orderId?: string } } }) => x.path === '/epos/events' && String(x.body?.event?.orderId).startsWith('LAG-');
      const stop = dojo.respond(async (x) => (isSlow(x) ? (await slowAnswered, { status: 200, body: {} }) : undefined));
      try {
        for (const e of ['LAG-1', 'LAG-2', 'LAG-3', 'LAG-4']) await enqueuePosEvent(db.prisma, locs[1]!.id, 'OrderUpdated', e, { orderId: e });
        await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'QUICK-1', { orderId: 'QUICK-1' });
        const dispatch = dispatcher({ batchSize: 3, perLocation: 2, passWaitMs: 1_000 });
        assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: true }, "the slow location's share (2) and the quick event");
        assert.equal(await state('QUICK-1'), 'sent');
        // The slow location's share is out: its other due rows are not claimed, another location's event is.
        await enqueuePosEvent(db.prisma, locs[0]!.id, 'OrderUpdated', 'QUICK-2', { orderId: 'QUICK-2' });
        assert.deepEqual(await dispatch.execute(), { sent: 1, failed: 0, retried: 0, more: true }, 'room for 1 (two sends are out), the quick one');
        assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 0, retried: 0, more: false }, 'nothing claimed while the share is out');
        assert.equal(dojo.find(isSlow).length, 2);
        assert.deepEqual([await state('LAG-3'), await state('LAG-4')], ['pending', 'pending']);

        answerSlow();
        await dispatch.drain();
        assert.deepEqual(await dispatch.execute(), { sent: 4, failed: 0, retried: 0, more: true }, 'the two late ones reported, the next two sent');
        assert.deepEqual(await dispatch.execute(), { sent: 0, failed: 0, retried: 0, more: false });
        assert.equal(dojo.find(isSlow).length, 4, 'each slow row sent once');
      } finally {
        answerSlow();
        stop();
      }
    });
  });
});
