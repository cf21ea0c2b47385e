import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RunningApp } from '@app/common';
import { createLogger } from '@app/common';
import { enqueuePosEvent } from '@app/domain';
import { DeadLettersRepository } from '@app/domain/dead-letters';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { DojoEventsSweeper } from '@app/domain/events/dojo-events-sweeper';
import { BullmqEventEnqueuer } from '@app/queue';
import type { Fixtures, LocationFixture, TestDatabase} from '@app/testing';
import { appEnv, createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startWorker } from '../../../apps/worker/src/main';
import { eventPayload } from '../events/fixtures';
import { DojoStandIn } from './support/dojo-stand-in';
import type { Api} from './support/helpers';
import { apiClient, OPERATOR_TOKEN, sandboxKey } from './support/helpers';

/**
 * Dead letters end to end: the worker app (events, outbox, registration) with
 * small attempt limits and backoffs, the admin app's /v1/dead-letters, real
 * Postgres, Redis and BullMQ, and an HTTP stand-in for Dojo.
 */
describe('dead letters: Dojo events, POS events and registrations stop, and the operator replays or discards them', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  let worker: RunningApp;
  let api: Api;
  let enqueuer: BullmqEventEnqueuer;
  let ingest: IngestDojoEvent;
  let loc: LocationFixture;
  const prefix = uniquePrefix('dead');

  before(async () => {
    db = await createTestDatabase('deadletters');
    fx = fixtures(db.prisma);
    dojo = await new DojoStandIn().start();
    const env = appEnv(db, {
      ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN,
      DOJO_API_URL: dojo.url,
      QUEUE_PREFIX: prefix,
      EVENTS_MAX_ATTEMPTS: '3',
      EVENTS_SWEEP_INTERVAL_MS: '100',
      EVENTS_SWEEP_AFTER_MS: '200',
      OUTBOX_POLL_MS: '25',
      OUTBOX_BACKOFF_BASE_MS: '30',
      OUTBOX_BACKOFF_MAX_MS: '60',
      OUTBOX_MAX_ATTEMPTS: '3',
      REGISTRATION_ATTEMPTS: '2',
      REGISTRATION_BACKOFF_MS: '30',
    });
    admin = await startAdmin(env);
    worker = await startWorker(env);
    api = apiClient(admin.url);
    enqueuer = new BullmqEventEnqueuer({ redisUrl: testRedisUrl(), prefix });
    ingest = new IngestDojoEvent(new DojoEventsRepository(db.prisma), enqueuer, createLogger('test', 'silent'));
    loc = await fx.location({ registrationState: 'registered' });
  });

  after(async () => {
    await admin?.close();
    await worker?.close();
    await enqueuer?.close();
    await dojo?.stop();
    await db?.drop();
  });

  const listOf = async (query: string) => {
    const r = await api('GET', `/v1/dead-letters${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { items: any[]; nextCursor: string | null };
  };

  it('a Dojo event that keeps failing ends dead after EVENTS_MAX_ATTEMPTS, stays dead, and applies exactly once when replayed after the fix', async () => {
    await fx.order(loc.id, { id: 'ord_dead', total: 1000 });
    await fx.payment(loc.id, 'ord_dead', { paymentIntentId: 'pi_dead', amount: 1000 });
    // The cause: the venue feed refuses this event's entry, so every attempt's transaction fails. The error text
    // carries things that look like secrets, which must not reach the dead letter.
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_feed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.entity_id = 'evt_poison' THEN
          RAISE EXCEPTION 'venue feed refuses % (Bearer abc.def-123 key sk_sandbox_leakedsecret1)', NEW.entity_id;
        END IF;
        RETURN NEW;
      END $$`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_refuse_feed BEFORE INSERT ON venue_feed FOR EACH ROW EXECUTE FUNCTION test_refuse_feed()`);

    const { eventRowId } = await ingest.execute({
      payload: eventPayload(loc.dojoAccountId, 'evt_poison', 'payment_intent.status_updated', 'pi_dead', 'Authorized', new Date()),
      channel: 'webhook',
      locationId: loc.id,
    });
    const dead = await waitFor(
      async () => {
        const r = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } });
        return r.state === 'dead' ? r : undefined;
      },
      'the event is dead',
      20_000,
    );
    assert.equal(dead.attempts, 3);
    assert.ok(dead.deadAt);
    assert.match(dead.lastError ?? '', /venue feed refuses evt_poison/);
    assert.doesNotMatch(dead.lastError ?? '', /leakedsecret1|abc\.def-123/, 'secrets are redacted');

    // Nothing retries it any more: neither the queue's backoff nor the sweeper (which runs every 100 ms).
    await sleep(1_500);
    const still = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } });
    assert.equal(still.state, 'dead');
    assert.equal(still.attempts, 3, 'attempts stopped growing');
    const payment = () => db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: 'pi_dead' } } });
    assert.equal((await payment()).intentStatus, null, 'nothing was applied');

    const page = await listOf(`?kind=dojo-event&locationId=${loc.id}`);
    assert.deepEqual(page.items, [
      {
        id: `dojo-event:${eventRowId}`,
        kind: 'dojo-event',
        locationId: loc.id,
        subject: 'evt_poison',
        attempts: 3,
        lastError: dead.lastError,
        deadAt: dead.deadAt.toISOString(),
        createdAt: dead.receivedAt.toISOString(),
      },
    ]);
    assert.equal(page.nextCursor, null);
    assert.equal((await new DeadLettersRepository(db.prisma).countAcrossLocations())['dojo-event'], 1);

    // Fix the cause, then replay: applied, exactly once.
    await db.prisma.$executeRawUnsafe(`DROP TRIGGER test_refuse_feed ON venue_feed`);
    const replay = await api('POST', `/v1/dead-letters/dojo-event:${eventRowId}/replay`);
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    assert.deepEqual(replay.body, { id: `dojo-event:${eventRowId}`, kind: 'dojo-event', state: 'requeued' });
    await waitFor(async () => (await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state === 'applied', 'applied after the replay');
    assert.equal((await payment()).intentStatus, 'Authorized');
    await sleep(500);
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id, entityId: { in: ['evt_poison', 'pi_dead'] } } });
    assert.deepEqual(feed.map((f) => f.kind).sort(), ['event.received', 'payment.updated'], 'applied exactly once');
    const applied = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } });
    assert.equal(applied.attempts, 0, 'the replay reset the attempts');
    assert.equal(applied.deadAt, null);

    assert.equal((await listOf(`?kind=dojo-event&locationId=${loc.id}`)).items.length, 0);
    const again = await api('POST', `/v1/dead-letters/dojo-event:${eventRowId}/replay`);
    assert.equal(again.status, 409, 'an applied event is not dead');
    assert.equal((await new DeadLettersRepository(db.prisma).countAcrossLocations())['dojo-event'], 0);
  });

  it('logs a warn line naming the dead letter when a Dojo event dies, and rethrows the failures before it', async () => {
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_warn() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.entity_id = 'evt_warn' THEN RAISE EXCEPTION 'refused %', NEW.entity_id; END IF;
        RETURN NEW;
      END $$`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_refuse_warn BEFORE INSERT ON venue_feed FOR EACH ROW EXECUTE FUNCTION test_refuse_warn()`);
    const unqueued = { enqueue: async () => undefined };
    const { eventRowId } = await new IngestDojoEvent(new DojoEventsRepository(db.prisma), unqueued, createLogger('test', 'silent')).execute({
      payload: eventPayload(loc.dojoAccountId, 'evt_warn', 'payment_intent.created', undefined, undefined, new Date()),
      channel: 'socket',
      locationId: loc.id,
    });
    // Received "in the future", so the worker's sweeper (rows received over 200 ms ago) leaves it to this test.
    await db.prisma.dojoEvent.update({ where: { id: eventRowId }, data: { receivedAt: new Date(Date.now() + 3_600_000) } });
    const lines: any[] = [];
    const logger = createLogger('test', 'info', { write: (s: string) => void lines.push(JSON.parse(s)) });
    const apply = new ApplyDojoEvent(db.prisma, logger, { maxAttempts: 2 });
    await assert.rejects(apply.execute({ eventRowId }), /refused evt_warn/, 'the first failure is rethrown for the queue to retry');
    assert.equal(lines.filter((l) => l.level === 'warn').length, 0);
    assert.deepEqual(await apply.execute({ eventRowId }), { outcome: 'dead' });
    const warn = lines.find((l) => l.level === 'warn');
    assert.ok(warn, JSON.stringify(lines));
    assert.equal(warn.deadLetter, `dojo-event:${eventRowId}`);
    assert.equal(warn.locationId, loc.id);
    assert.equal(warn.eventId, 'evt_warn');
    assert.equal(warn.attempts, 2);
    assert.match(warn.msg, /dead/);
    assert.deepEqual(await apply.execute({ eventRowId }), { outcome: 'dead' }, 'a dead row is left alone');
    assert.equal((await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).attempts, 2);
    await db.prisma.$executeRawUnsafe(`DROP TRIGGER test_refuse_warn ON venue_feed`);
    const discard = await api('POST', `/v1/dead-letters/dojo-event:${eventRowId}/discard`, { body: { reason: 'test row' } });
    assert.equal(discard.status, 200, JSON.stringify(discard.body));
  });

  it('the sweeper re-enqueues a failing event only after a doubling delay since its last failure, and never a dead one', async () => {
    // A database of its own: the worker app's sweeper would race this one for the rows.
    const own = await createTestDatabase('deadsweep');
    try {
      const sweepLoc = await fixtures(own.prisma).location({ registrationState: 'registered' });
      const row = async (eventId: string, data: { state: 'received' | 'dead'; attempts: number; lastFailedAt: Date | null; deadAt?: Date }) =>
        (
          await own.prisma.dojoEvent.create({
            data: {
              locationId: sweepLoc.id, dojoAccountId: sweepLoc.dojoAccountId, eventId, eventType: 'payment_intent.created', occurredAt: new Date(),
              channel: 'webhook', payload: {}, receivedAt: new Date(Date.now() - 3_600_000), ...data,
            },
          })
        ).id;
      const now = Date.now();
      const fresh = await row('evt_sw_fresh', { state: 'received', attempts: 0, lastFailedAt: null });
      // staleAfterMs 1000: after 5 failures the wait is 32 s, after 1 it is 2 s.
      const waiting = await row('evt_sw_wait', { state: 'received', attempts: 5, lastFailedAt: new Date(now - 10_000) });
      const due = await row('evt_sw_due', { state: 'received', attempts: 1, lastFailedAt: new Date(now - 10_000) });
      const capped = await row('evt_sw_cap', { state: 'received', attempts: 19, lastFailedAt: new Date(now - 301_000) });
      const dead = await row('evt_sw_dead', { state: 'dead', attempts: 3, lastFailedAt: new Date(now - 3_600_000), deadAt: new Date(now - 3_600_000) });
      const enqueued: string[] = [];
      const sweeper = new DojoEventsSweeper(new DojoEventsRepository(own.prisma), { enqueue: async (id) => void enqueued.push(id) }, createLogger('test', 'silent'), {
        intervalMs: 60_000,
        staleAfterMs: 1_000,
      });
      await sweeper.sweepOnce();
      const mine = enqueued.filter((id) => [fresh, waiting, due, capped, dead].includes(id)).sort();
      assert.deepEqual(mine, [fresh, due, capped].sort());
    } finally {
      await own.drop();
    }
  });

  // 403 (the key not allowed to send it), not an outage: a 5xx, 429 or no answer never makes a POS event dead.
  it('a POS event Dojo keeps answering 403 ends dead after OUTBOX_MAX_ATTEMPTS without blocking anyone, and replay delivers it once Dojo accepts', async () => {
    let refusing = true;
    const stop = dojo.respond((r) => (refusing && r.path === '/epos/events' && r.body?.event?.orderId === 'O-dead' ? { status: 403, body: { title: 'forbidden' } } : undefined));
    const sentFor = (orderId: string) => dojo.find((r) => r.path === '/epos/events' && r.body?.event?.orderId === orderId).length;
    await enqueuePosEvent(db.prisma, loc.id, 'OrderUpdated', 'O-dead', { orderId: 'O-dead' });
    await enqueuePosEvent(db.prisma, loc.id, 'OrderUpdated', 'O-other', { orderId: 'O-other' });

    const dead = await waitFor(() => db.prisma.outboxEvent.findFirst({ where: { entityId: 'O-dead', state: 'dead' } }), 'the POS event is dead');
    assert.equal(dead.attempts, 3);
    assert.ok(dead.deadAt);
    assert.match(dead.lastError ?? '', /403/);
    await waitFor(() => db.prisma.outboxEvent.findFirst({ where: { entityId: 'O-other', state: 'sent' } }), 'another entity is delivered');

    const requests = sentFor('O-dead');
    await sleep(600);
    assert.equal(sentFor('O-dead'), requests, 'no more deliveries of a dead POS event');
    assert.equal((await db.prisma.outboxEvent.findUniqueOrThrow({ where: { id: dead.id } })).attempts, 3);

    const page = await listOf(`?kind=pos-event&locationId=${loc.id}`);
    assert.equal(page.items.length, 1);
    assert.deepEqual(page.items[0], {
      id: `pos-event:${dead.id}`,
      kind: 'pos-event',
      locationId: loc.id,
      subject: 'order O-dead',
      attempts: 3,
      lastError: dead.lastError,
      deadAt: dead.deadAt.toISOString(),
      createdAt: dead.createdAt.toISOString(),
    });

    // A later event of the same entity is not held behind the dead one (it carries only the id; Dojo reads the
    // order's current state), so it is delivered while the dead one waits for the operator.
    refusing = false;
    await enqueuePosEvent(db.prisma, loc.id, 'OrderUpdated', 'O-dead', { orderId: 'O-dead' });
    await waitFor(() => db.prisma.outboxEvent.findFirst({ where: { entityId: 'O-dead', state: 'sent' } }), 'the later event of the entity is delivered');
    assert.equal((await db.prisma.outboxEvent.findUniqueOrThrow({ where: { id: dead.id } })).state, 'dead', 'the dead one stays dead');

    const before = sentFor('O-dead');
    const replay = await api('POST', `/v1/dead-letters/pos-event:${dead.id}/replay`);
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    assert.deepEqual(replay.body, { id: `pos-event:${dead.id}`, kind: 'pos-event', state: 'requeued' });
    const sent = await waitFor(async () => {
      const r = await db.prisma.outboxEvent.findUniqueOrThrow({ where: { id: dead.id } });
      return r.state === 'sent' ? r : undefined;
    }, 'the replayed POS event is delivered');
    assert.equal(sent.attempts, 1, 'attempts were reset, then the delivery counted');
    assert.equal(sentFor('O-dead'), before + 1);
    stop();
    assert.equal((await listOf(`?kind=pos-event&locationId=${loc.id}`)).items.length, 0);
  });

  it('a registration that fails REGISTRATION_ATTEMPTS times ends failed and dead, and replay registers it', async () => {
    const key = sandboxKey();
    let down = true;
    const stop = dojo.respond((r) => (down && r.headers.authorization === `Basic ${key}` ? { status: 503, body: { title: 'unavailable' } } : undefined));
    const sh = await api('POST', '/v1/software-houses', { body: { name: 'Dead Tills', dojoSoftwareHouseId: `sh-dead-${Date.now()}` } });
    assert.equal(sh.status, 201, JSON.stringify(sh.body));
    const created = await api('POST', '/v1/locations', {
      body: { name: 'Dead Arms', softwareHouseId: sh.body.id, dojoAccountId: `acc_dead_${Date.now()}`, apiKey: key, capabilities: ['SearchOrders'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.id;
    const row = await waitFor(async () => {
      const l = await db.prisma.location.findUniqueOrThrow({ where: { id } });
      return l.registrationState === 'failed' && l.registrationDeadAt ? l : undefined;
    }, 'the registration is dead');
    assert.equal(row.registrationAttempts, 2);
    const puts = dojo.find((r) => r.headers.authorization === `Basic ${key}`).length;
    assert.equal(puts, 2);

    const page = await listOf(`?kind=registration&locationId=${id}`);
    assert.deepEqual(page.items, [
      {
        id: `registration:${id}`,
        kind: 'registration',
        locationId: id,
        subject: 'capabilities',
        attempts: 2,
        lastError: row.registrationError!,
        deadAt: row.registrationDeadAt!.toISOString(),
        createdAt: row.createdAt.toISOString(),
      },
    ]);
    assert.match(page.items[0]!.lastError, /503/);
    await sleep(300);
    assert.equal(dojo.find((r) => r.headers.authorization === `Basic ${key}`).length, puts, 'not retried any more');

    down = false;
    stop();
    const replay = await api('POST', `/v1/dead-letters/registration:${id}/replay`);
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    assert.deepEqual(replay.body, { id: `registration:${id}`, kind: 'registration', state: 'requeued' });
    await waitFor(async () => (await db.prisma.location.findUniqueOrThrow({ where: { id } })).registrationState === 'registered', 'registered after the replay');
    const done = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.equal(done.registrationDeadAt, null);
    assert.equal(done.registrationAttempts, 1);
    assert.equal((await listOf(`?kind=registration&locationId=${id}`)).items.length, 0);
    assert.equal((await api('POST', `/v1/dead-letters/registration:${id}/replay`)).status, 409);
  });

  describe('listing, discarding, bulk replay and bad input', () => {
    let a: LocationFixture;
    let b: LocationFixture;
    const t = (s: number) => new Date(Date.UTC(2026, 10, 1, 12, 0, s));
    const ids: Record<string, string> = {};

    before(async () => {
      const sh = await fx.softwareHouse();
      // Disabled: the outbox dispatcher leaves their POS events alone, so only the bulk replay below touches them.
      a = await fx.location({ softwareHouseId: sh.id, registrationState: 'registered', enabled: false });
      b = await fx.location({ softwareHouseId: sh.id, registrationState: 'failed', enabled: false });
      const ev = async (locationId: string, eventId: string, deadAt: Date) => {
        const r = await db.prisma.dojoEvent.create({
          data: {
            locationId, dojoAccountId: locationId === a.id ? a.dojoAccountId : b.dojoAccountId, eventId, eventType: 'payment_intent.status_updated',
            occurredAt: t(0), channel: 'webhook', payload: {}, state: 'dead', attempts: 10, lastError: `boom ${eventId}`, deadAt,
          },
        });
        return `dojo-event:${r.id}`;
      };
      const pos = async (locationId: string, entityId: string, deadAt: Date) => {
        const r = await db.prisma.outboxEvent.create({
          data: { locationId, eventType: 'OrderUpdated', entityType: 'order', entityId, payload: { orderId: entityId }, state: 'dead', attempts: 20, lastError: 'HTTP 500', deadAt },
        });
        return `pos-event:${r.id}`;
      };
      ids.a1 = await ev(a.id, 'evt_a1', t(1));
      ids.a2 = await pos(a.id, 'A-2', t(2));
      ids.a3 = await ev(a.id, 'evt_a3', t(3));
      ids.b4 = await pos(b.id, 'B-4', t(4));
      await db.prisma.location.update({ where: { id: b.id }, data: { registrationDeadAt: t(5), registrationError: 'HTTP 401', registrationAttempts: 1 } });
      ids.b5 = `registration:${b.id}`;
      ids.b6 = await ev(b.id, 'evt_b6', t(6));
    });

    it('lists newest first, filters by location, kind and since, and pages with the cursor', async () => {
      const all = (await listOf(`?locationId=${a.id}`)).items.map((i) => i.id);
      assert.deepEqual(all, [ids.a3, ids.a2, ids.a1]);
      const both = [...(await listOf(`?locationId=${b.id}`)).items.map((i) => i.id)];
      assert.deepEqual(both, [ids.b6, ids.b5, ids.b4]);
      assert.deepEqual((await listOf(`?locationId=${b.id}&kind=registration`)).items.map((i) => i.id), [ids.b5]);
      assert.deepEqual((await listOf(`?locationId=${a.id}&kind=dojo-event`)).items.map((i) => i.id), [ids.a3, ids.a1]);
      assert.deepEqual((await listOf(`?locationId=${a.id}&since=${encodeURIComponent(t(2).toISOString())}`)).items.map((i) => i.id), [ids.a3, ids.a2]);
      assert.deepEqual((await listOf(`?kind=pos-event&since=2026-11-01T12:00:02%2B00:00`)).items.map((i) => i.id).filter((x) => x === ids.a2 || x === ids.b4), [ids.b4, ids.a2]);
      const reg = (await listOf(`?locationId=${b.id}&kind=registration`)).items[0];
      assert.deepEqual(reg, {
        id: ids.b5, kind: 'registration', locationId: b.id, subject: 'capabilities', attempts: 1, lastError: 'HTTP 401', deadAt: t(5).toISOString(), createdAt: reg.createdAt,
      });

      // Every dead letter, two at a time: the same order as one page, no repeats.
      const whole = (await listOf('?limit=500')).items.map((i) => i.id);
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: any[]; nextCursor: string | null } = await listOf(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.ok(page.items.length <= 2);
        walked.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(walked, whole);
      assert.ok(whole.length >= 6);
      const deadAts = (await listOf('?limit=500')).items.map((i) => Date.parse(i.deadAt));
      assert.deepEqual(deadAts, [...deadAts].sort((x, y) => y - x), 'newest first');

      // The counts by kind agree with the list.
      const counts = await new DeadLettersRepository(db.prisma).countAcrossLocations();
      const listed = (await listOf('?limit=500')).items;
      for (const kind of ['dojo-event', 'pos-event', 'registration'] as const) {
        assert.equal(counts[kind], listed.filter((i) => i.kind === kind).length, kind);
      }
    });

    it('refuses bad filters with 400 naming the field, and needs the operator token', async () => {
      const bad = async (query: string, field: string) => {
        const r = await api('GET', `/v1/dead-letters${query}`);
        assert.equal(r.status, 400, `${query}: ${JSON.stringify(r.body)}`);
        assert.ok(r.body.fields?.some((f: { field: string }) => f.field === field), `${query}: ${JSON.stringify(r.body)}`);
      };
      await bad('?kind=bogus', 'kind');
      await bad('?since=yesterday', 'since');
      await bad('?since=2026-11-01T12:00:00', 'since');
      await bad('?locationId=nope', 'locationId');
      await bad('?limit=0', 'limit');
      await bad('?limit=501', 'limit');
      await bad('?cursor=not-a-cursor', 'cursor');
      await bad('?state=dead', 'state');
      assert.equal((await api('GET', '/v1/dead-letters', { token: null })).status, 401);
      assert.equal((await api('POST', `/v1/dead-letters/${ids.a1}/replay`, { token: null })).status, 401);
      assert.equal((await api('POST', `/v1/dead-letters/${ids.a1}/discard`, { token: 'not-the-operator-token', body: { reason: 'x' } })).status, 401);
    });

    it('404 for unknown ids, 409 for letters that are not dead', async () => {
      for (const id of [`dojo-event:${randomUUID()}`, `registration:${randomUUID()}`, 'pos-event:999999999', 'pos-event:abc', 'bogus:1', 'nothing', 'dojo-event:1']) {
        const r = await api('POST', `/v1/dead-letters/${encodeURIComponent(id)}/replay`);
        assert.equal(r.status, 404, `${id}: ${JSON.stringify(r.body)}`);
        const d = await api('POST', `/v1/dead-letters/${encodeURIComponent(id)}/discard`, { body: { reason: 'gone' } });
        assert.equal(d.status, 404, `${id}: ${JSON.stringify(d.body)}`);
      }
      // A location whose registration is fine is not a dead letter.
      assert.equal((await api('POST', `/v1/dead-letters/registration:${a.id}/replay`)).status, 409);
      assert.equal((await api('POST', `/v1/dead-letters/registration:${a.id}/discard`, { body: { reason: 'x' } })).status, 409);
    });

    it('discards with a reason: kept for audit, no longer listed, never replayed', async () => {
      for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 'ok', extra: 1 }]) {
        const r = await api('POST', `/v1/dead-letters/${ids.a1}/discard`, { body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.ok(r.body.fields?.length, JSON.stringify(r.body));
      }
      const r = await api('POST', `/v1/dead-letters/${ids.a1}/discard`, { body: { reason: 'duplicate of evt_a3' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { id: ids.a1, kind: 'dojo-event', state: 'discarded', reason: 'duplicate of evt_a3' });
      const row = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: ids.a1!.split(':')[1] } });
      assert.equal(row.state, 'discarded');
      assert.equal(row.discardReason, 'duplicate of evt_a3');
      assert.ok(row.discardedAt);
      assert.equal(row.lastError, 'boom evt_a1', 'the last error is kept');

      const reg = await api('POST', `/v1/dead-letters/${ids.b5}/discard`, { body: { reason: 'venue closed' } });
      assert.equal(reg.status, 200, JSON.stringify(reg.body));
      assert.deepEqual(reg.body, { id: ids.b5, kind: 'registration', state: 'discarded', reason: 'venue closed' });

      assert.deepEqual((await listOf(`?locationId=${a.id}`)).items.map((i) => i.id), [ids.a3, ids.a2]);
      assert.deepEqual((await listOf(`?locationId=${b.id}`)).items.map((i) => i.id), [ids.b6, ids.b4]);
      assert.equal((await api('POST', `/v1/dead-letters/${ids.a1}/discard`, { body: { reason: 'again' } })).status, 409);
      assert.equal((await api('POST', `/v1/dead-letters/${ids.a1}/replay`)).status, 409);
      assert.equal((await api('POST', `/v1/dead-letters/${ids.b5}/replay`)).status, 409);
      // Bulk replay skips discarded letters too.
      const bulk = await api('POST', '/v1/dead-letters/replay', { body: { locationId: b.id, kind: 'registration' } });
      assert.equal(bulk.status, 202);
      assert.deepEqual(bulk.body, { requeued: 0 });
    });

    it('bulk replay of everything needs {"all": true}: no body, an empty one, or one not sent as JSON is a 400 and requeues nothing', async () => {
      const before = (await listOf('?limit=500')).items.map((i) => i.id).sort();
      assert.ok(before.length >= 4, JSON.stringify(before));
      const post = (headers: Record<string, string>, body?: string) =>
        fetch(`${admin.url}/v1/dead-letters/replay`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...headers }, body });
      const attempts: Array<[string, Promise<Response>]> = [
        ['no body', post({})],
        ['an empty JSON object', post({ 'content-type': 'application/json' }, '{}')],
        ["curl -d's form", post({ 'content-type': 'application/x-www-form-urlencoded' }, `locationId=${a.id}`)],
        ['JSON sent as text/plain', post({ 'content-type': 'text/plain' }, '{"all": true}')],
        ['all: false', post({ 'content-type': 'application/json' }, '{"all": false}')],
        ['all with a filter', post({ 'content-type': 'application/json' }, JSON.stringify({ all: true, locationId: a.id }))],
      ];
      for (const [what, pending] of attempts) {
        const r = await pending;
        const body = (await r.json()) as { fields?: unknown[] };
        assert.equal(r.status, 400, `${what}: ${JSON.stringify(body)}`);
        assert.ok(body.fields?.length, `${what}: ${JSON.stringify(body)}`);
      }
      assert.deepEqual((await listOf('?limit=500')).items.map((i) => i.id).sort(), before, 'nothing was requeued');
    });

    it('bulk replay requeues what matches the filter, and refuses bad filters', async () => {
      for (const body of [{ kind: 'bogus' }, { locationId: 'x' }, { since: 'soon' }, { state: 'dead' }]) {
        const r = await api('POST', '/v1/dead-letters/replay', { body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.ok(r.body.fields?.length, JSON.stringify(r.body));
      }
      const pos = await api('POST', '/v1/dead-letters/replay', { body: { locationId: a.id, kind: 'pos-event' } });
      assert.equal(pos.status, 202, JSON.stringify(pos.body));
      assert.deepEqual(pos.body, { requeued: 1 });
      const a2 = await db.prisma.outboxEvent.findUniqueOrThrow({ where: { id: BigInt(ids.a2!.split(':')[1]!) } });
      assert.equal(a2.state, 'pending');
      assert.equal(a2.attempts, 0);
      assert.equal(a2.deadAt, null);
      assert.deepEqual((await listOf(`?locationId=${a.id}`)).items.map((i) => i.id), [ids.a3]);

      const since = await api('POST', '/v1/dead-letters/replay', { body: { locationId: b.id, since: t(5).toISOString() } });
      assert.deepEqual(since.body, { requeued: 1 }, 'only evt_b6 died at or after the given time');
      assert.deepEqual((await listOf(`?locationId=${b.id}`)).items.map((i) => i.id), [ids.b4]);
      const b6 = await waitFor(async () => {
        const r = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: ids.b6!.split(':')[1] } });
        return r.state === 'applied' ? r : undefined;
      }, 'the replayed event is applied by the worker');
      assert.equal(b6.attempts, 0);

      // Everything left, of every location, with the explicit request.
      const all = await api('POST', '/v1/dead-letters/replay', { body: { all: true } });
      assert.equal(all.status, 202, JSON.stringify(all.body));
      assert.ok(all.body.requeued >= 2, JSON.stringify(all.body));
      const b4 = await db.prisma.outboxEvent.findUniqueOrThrow({ where: { id: BigInt(ids.b4!.split(':')[1]!) } });
      assert.equal(b4.state, 'pending');
      assert.equal(b4.attempts, 0);
    });
  });
});
