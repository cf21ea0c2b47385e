import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RunningApp } from '@app/common';
import { createLogger } from '@app/common';
import { DEFAULT_RETENTION, pendingPaymentDiscardReason } from '@app/domain/core/rules';
import { PruneExpiredRecords, retentionRepositories } from '@app/domain/retention';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startWorker } from '../../../apps/worker/src/main';
import { apiClient, OPERATOR_TOKEN } from '../admin/support/helpers';

const log = createLogger('test', 'silent');
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

/**
 * Retention on real Postgres: what a pass removes and what it never touches (dead letters, work still to do,
 * records inside their period), batches and a pass's share, the venue feed's horizon (410 cursor_expired through
 * the venue API, never for another venue or a read from the start), and the worker app running passes on its own.
 */
describe('retention: finished records past their period are removed, nothing else', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let A: LocationFixture;
  let B: LocationFixture;

  const request = (loc: string, createdAt: Date) =>
    db.prisma.$executeRaw`INSERT INTO processed_requests (location_id, dialect, rpc_id, method, response, created_at)
      VALUES (${loc}::uuid, 'epos-data', ${randomUUID()}, 'RecordOrderPaymentByIdV1', '{}'::jsonb, ${createdAt})`;
  const posEvent = (loc: string, state: string, at: Date) =>
    db.prisma.$executeRaw`INSERT INTO outbox_events (location_id, event_type, entity_type, entity_id, payload, state, next_attempt_at, created_at,
        sent_at, dead_at, discarded_at)
      VALUES (${loc}::uuid, 'OrderUpdated', 'order', ${randomUUID()}, '{}'::jsonb, ${state}::"OutboxState", ${at}, ${at},
        ${state === 'sent' ? at : null}, ${state === 'dead' ? at : null}, ${state === 'discarded' ? at : null})`;
  const dojoEvent = (loc: string, state: string, at: Date) =>
    db.prisma.$executeRaw`INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, payment_intent_id, occurred_at, channel,
        payload, state, received_at, applied_at, dead_at, discarded_at, discard_reason)
      VALUES (${randomUUID()}::uuid, ${loc}::uuid, 'acc-1', ${randomUUID()}, 'payment_intent.status_updated', 'pi_1', ${at}, 'webhook', '{}'::jsonb,
        ${state}::"EventState", ${at}, ${state === 'applied' ? at : null}, ${state === 'dead' ? at : null},
        ${state === 'discarded' ? at : null}, ${state === 'discarded' ? 'operator' : null})`;
  const feedEntries = async (loc: string, createdAt: Date, n: number): Promise<string[]> => {
    const rows = await db.prisma.$queryRaw<{ c: string }[]>`
      INSERT INTO venue_feed (location_id, kind, entity_type, entity_id, data, created_at)
      SELECT ${loc}::uuid, 'payment.recorded', 'payment', 'p-' || g, '{}'::jsonb, ${createdAt} FROM generate_series(1, ${n}::int) g
      RETURNING tx_id::text || '.' || id::text AS c`;
    return rows.map((r) => r.c);
  };
  const count = async (table: string, where = 'true'): Promise<number> =>
    Number((await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0]!.n);
  const prune = (opts: { batchSize: number; maxBatchesPerKind?: number }) =>
    new PruneExpiredRecords(retentionRepositories(db.prisma), DEFAULT_RETENTION, { ...opts, pauseMs: 0 }, log);

  let oldFeed: string[] = [];
  let youngFeed: string[] = [];

  before(async () => {
    db = await createTestDatabase('retention');
    fx = fixtures(db.prisma);
    A = await fx.location({ name: 'Old Bell' });
    B = await fx.location({ name: 'New Inn' });
    for (let i = 0; i < 3; i++) await request(A.id, ago(8));
    await request(A.id, ago(6));
    await request(B.id, ago(1));
    for (let i = 0; i < 3; i++) await posEvent(A.id, 'sent', ago(31));
    await posEvent(A.id, 'sent', ago(29));
    await posEvent(A.id, 'pending', ago(40));
    await posEvent(A.id, 'dead', ago(400));
    await posEvent(A.id, 'discarded', ago(91));
    await posEvent(A.id, 'discarded', ago(89));
    for (let i = 0; i < 3; i++) await dojoEvent(A.id, 'applied', ago(31));
    await dojoEvent(A.id, 'applied', ago(29));
    for (let i = 0; i < 2; i++) await dojoEvent(A.id, 'pending_payment', ago(31));
    await dojoEvent(A.id, 'pending_payment', ago(29));
    await dojoEvent(A.id, 'received', ago(40));
    await dojoEvent(A.id, 'dead', ago(400));
    await dojoEvent(A.id, 'discarded', ago(91));
    oldFeed = await feedEntries(A.id, ago(31), 3);
    youngFeed = await feedEntries(A.id, ago(1), 2);
    await feedEntries(B.id, ago(1), 2);
  });

  after(async () => {
    await db?.drop();
  });

  it('a pass stops at its share with more to remove; the next goes on', async () => {
    // 3 old stored answers, 2 per batch, 1 batch per kind: 2 removed, 1 left.
    const first = await prune({ batchSize: 2, maxBatchesPerKind: 1 }).runPass();
    assert.equal(first.complete, false);
    assert.equal(first.removed.processed_requests, 2);
    assert.equal(await count('processed_requests'), 3);
  });

  it('removes what is past its period, in batches; keeps dead letters, work still to do and young records', async () => {
    const pass = await prune({ batchSize: 2 }).runPass();
    assert.equal(pass.complete, true);
    assert.deepEqual(pass.removed, {
      dojo_events_pending_payment: 0,
      processed_requests: 1,
      pos_events_sent: 1,
      pos_events_discarded: 0,
      dojo_events_applied: 1,
      dojo_events_discarded: 0,
      venue_feed: 1,
    }, 'the share-limited pass before took up to 2 of each kind already');
    assert.equal(await count('processed_requests'), 2, 'the answers of 6 and 1 days ago stay');
    assert.deepEqual(
      (await db.prisma.outboxEvent.findMany({ orderBy: { id: 'asc' } })).map((r) => r.state),
      ['sent', 'pending', 'dead', 'discarded'],
      'the young sent, the pending, the dead letter and the discard within its 90 days stay',
    );
    const events = await db.prisma.dojoEvent.findMany({ orderBy: { receivedAt: 'asc' } });
    assert.deepEqual(events.map((e) => e.state).sort(), ['applied', 'dead', 'discarded', 'discarded', 'pending_payment', 'received']);
    const expired = events.filter((e) => e.discardReason === pendingPaymentDiscardReason(30));
    assert.equal(expired.length, 2, 'events waiting 31 days for their payment are discarded with the reason on the row');
    assert.equal(await count('venue_feed'), 4, 'the feed: young entries of both venues');
  });

  it('the venue feed: a cursor before what was deleted is 410 cursor_expired; the start, a later cursor and other venues read on', async () => {
    // The earlier passes deleted A's old entries and set A's horizon to the last of them.
    const horizon = await db.prisma.venueFeedHorizon.findUnique({ where: { locationId: A.id } });
    assert.ok(horizon, 'A has a horizon');
    assert.equal(`${horizon.txId}.${horizon.id}`, oldFeed[2]);
    assert.equal(await db.prisma.venueFeedHorizon.count({ where: { locationId: B.id } }), 0);

    let admin: RunningApp | undefined;
    try {
      admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, DOJO_API_URL: 'http://127.0.0.1:9' }));
      const api = apiClient(admin.url);
      const venue = async (loc: LocationFixture) => {
        const tok = await api('POST', `/v1/locations/${loc.id}/venue-tokens`, { body: { name: 'till' } });
        assert.equal(tok.status, 201, JSON.stringify(tok.body));
        const client = apiClient(admin!.url, tok.body.token);
        return (after?: string) => client('GET', `/venue/v1/locations/${loc.id}/feed${after ? `?after=${after}` : ''}`);
      };
      const feedA = await venue(A);
      const gone = await feedA(oldFeed[0]);
      assert.equal(gone.status, 410, JSON.stringify(gone.body));
      assert.equal(gone.body.error, 'cursor_expired');
      assert.match(gone.body.message, /read the feed again without `after`/);
      const fromStart = await feedA();
      assert.equal(fromStart.status, 200);
      assert.deepEqual(fromStart.body.entries.map((e: { cursor: string }) => e.cursor), youngFeed);
      const fromHorizon = await feedA(oldFeed[2]);
      assert.deepEqual(fromHorizon.body.entries.map((e: { cursor: string }) => e.cursor), youngFeed, 'the last deleted entry is a cursor that still reads on');
      const feedB = await venue(B);
      const b = await feedB('1.1');
      assert.equal(b.status, 200, 'B never had entries deleted');
      assert.equal(b.body.entries.length, 2);
    } finally {
      await admin?.close();
    }
  });

  it('a discarded event is deleted once the discarded period has passed too', async () => {
    const later = new Date(Date.now() + 91 * DAY);
    const pass = await prune({ batchSize: 100 }).runPass(later);
    // The two discarded by the earlier pass, and (the pass's clock being 91 days ahead of the database's) the one
    // that had waited 29 days for its payment, discarded at the start of this pass.
    assert.equal(pass.removed.dojo_events_pending_payment, 1);
    assert.equal(pass.removed.dojo_events_discarded, 3);
    assert.deepEqual((await db.prisma.dojoEvent.findMany()).map((e) => e.state).sort(), ['dead', 'received'], 'a dead letter and unfinished work are never removed');
    assert.deepEqual((await db.prisma.outboxEvent.findMany()).map((r) => r.state).sort(), ['dead', 'pending']);
  });

  it("keeps only an intent's latest applied Reversed and Canceled events: they decide between those two statuses of equal rank", async () => {
    const C = await fx.location({ name: 'Crown' });
    const applied = (status: string, days: number) =>
      db.prisma.$executeRaw`INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, payment_intent_id, payment_status, occurred_at,
          channel, payload, state, received_at, applied_at)
        VALUES (${randomUUID()}::uuid, ${C.id}::uuid, 'acc-c', ${`${status}-${days}`}, 'payment_intent.status_updated', 'pi_c', ${status}, ${ago(days)},
          'webhook', '{}'::jsonb, 'applied'::"EventState", ${ago(days)}, ${ago(days)})`;
    // An intent's whole life, each status once or more: rank alone decides among these, so none of them stays.
    await applied('Created', 46);
    await applied('Authorized', 45);
    await applied('Captured', 44);
    await applied('Captured', 40);
    await applied('Canceled', 39);
    await applied('Reversed', 38);
    await applied('Canceled', 37);
    await applied('Refunded', 35);
    await prune({ batchSize: 100 }).runPass();
    const left = await db.prisma.dojoEvent.findMany({ where: { locationId: C.id }, orderBy: { occurredAt: 'asc' } });
    assert.deepEqual(left.map((e) => e.eventId), ['Reversed-38', 'Canceled-37'], 'the latest Reversed and Canceled stay; everything else goes');
  });

  it('the worker app runs passes on its own (RETENTION_INTERVAL_MS), counted in its metrics', async () => {
    await request(B.id, ago(30));
    await request(B.id, ago(3));
    let worker: RunningApp | undefined;
    try {
      worker = await startWorker(appEnv(db, { RETENTION_INTERVAL_MS: '1000', RETENTION_REQUESTS_DAYS: '5', DOJO_API_URL: 'http://127.0.0.1:9' }));
      await waitFor(async () => (await count('processed_requests', `created_at < now() - interval '4 days'`)) === 0, 'the old answers removed', 15_000);
      assert.equal(await count('processed_requests', `created_at > now() - interval '4 days'`), 1, 'the answer of 3 days ago stays');
      // The pass goes on to the other kinds after the answers: its end shows in the metrics a moment later.
      const family = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(name)).join('\n');
      let metrics = '';
      await waitFor(async () => {
        metrics = await (await fetch(`${worker!.url}/metrics`)).text();
        return /epos_relay_retention_last_pass_timestamp_seconds [1-9]/.test(metrics);
      }, 'a finished pass in the metrics', 15_000);
      assert.match(family(metrics, 'epos_relay_retention_removed_total'), /epos_relay_retention_removed_total\{record="processed_requests"\} [1-9]/);
    } finally {
      await worker?.close();
    }
  });
});
