import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import WebSocket from 'ws';
import type { RunningApp } from '@app/common';
import { createRedis } from '@app/common';
import { LOCATION_PROTOCOLS } from '@app/contracts';
import { countRecentErrors, REQUEST_LOG_CAP, requestLogKey, RequestLogWriter, writeConnectionStatus } from '@app/queue';
import type { Fixtures, LocationFixture, TestDatabase} from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { CONSOLE_MAX_UNSIGNED } from '../../../apps/admin/src/console/console.gateway';
import { startAdmin } from '../../../apps/admin/src/main';
import type { Api} from './support/helpers';
import { apiClient, OPERATOR_TOKEN } from './support/helpers';
import { CuttableProxy } from '../../support/cuttable-proxy';

/**
 * What the operator console reads, without a browser: the capped request record
 * (written as the gateway writes it) behind GET /v1/locations/{id}/requests, the
 * paginated dojo-events and outbox routes, the /console files, and the live
 * fleet WebSocket's sign-in and pushed updates.
 */
describe('console API: request record, activity routes, live fleet socket', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let admin: RunningApp;
  let api: Api;
  let redis: Redis;
  let prefix: string;
  let loc: LocationFixture;
  let other: LocationFixture;
  /** The admin's way to Redis, cut to play an outage (the test's own client goes direct). */
  let proxy: CuttableProxy;

  before(async () => {
    db = await createTestDatabase('consoleapi');
    fx = fixtures(db.prisma);
    prefix = uniquePrefix('consoleapi');
    redis = createRedis(testRedisUrl());
    const sh = await fx.softwareHouse();
    loc = await fx.location({ softwareHouseId: sh.id, name: 'Kings Head' });
    other = await fx.location({ softwareHouseId: sh.id, name: 'Queens Arms' });
    proxy = await new CuttableProxy().start(new URL(testRedisUrl()));
    admin = await startAdmin(appEnv(db, { QUEUE_PREFIX: prefix, ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, REDIS_URL: `redis://127.0.0.1:${proxy.port}` }));
    api = apiClient(admin.url);
  });

  let adminClosed = false;
  after(async () => {
    if (!adminClosed) await admin?.close();
    await proxy?.cut();
    redis?.disconnect();
    await db?.drop();
  });

  it('keeps the last 100 requests per location, newest first, with a TTL, and counts recent errors', async () => {
    const writer = new RequestLogWriter(redis, prefix);
    const now = Date.now();
    for (let i = 0; i < 150; i++) {
      // The oldest 140 are ten minutes old; of the newest ten, three are errors.
      const recent = i >= 140;
      const error = i % 3 === 0;
      writer.record(loc.id, {
        at: new Date(recent ? now - (150 - i) * 10 : now - 600_000 + i).toISOString(),
        method: 'SearchOrdersV1',
        rpcId: String(i),
        ms: i,
        outcome: error ? 'error' : 'ok',
        ...(error ? { errorType: 'NotFound' } : {}),
        traceId: `t${i}`,
      });
    }
    await writer.flush();
    assert.equal(await redis.llen(requestLogKey(prefix, loc.id)), REQUEST_LOG_CAP);
    const ttl = await redis.pttl(requestLogKey(prefix, loc.id));
    assert.ok(ttl > 0 && ttl <= 24 * 3_600_000, `ttl ${ttl}`);

    const res = await api('GET', `/v1/locations/${loc.id}/requests`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.items.length, 100);
    assert.equal(res.body.items[0].rpcId, '149', 'newest first');
    assert.equal(res.body.items[99].rpcId, '50');
    const recentErrors = [140, 141, 142, 143, 144, 145, 146, 147, 148, 149].filter((i) => i % 3 === 0).length;
    assert.equal(res.body.errorsLast5m, recentErrors);
    assert.equal((await countRecentErrors(redis, prefix, [loc.id, other.id])).get(loc.id), recentErrors);
    assert.equal((await countRecentErrors(redis, prefix, [loc.id, other.id])).get(other.id), 0);

    const few = await api('GET', `/v1/locations/${loc.id}/requests?limit=3`);
    assert.deepEqual(few.body.items.map((e: { rpcId: string }) => e.rpcId), ['149', '148', '147']);
    assert.equal((await api('GET', `/v1/locations/${loc.id}/requests?limit=101`)).status, 400);
    assert.equal((await api('GET', `/v1/locations/${loc.id}/requests?since=1`)).status, 400);
    assert.deepEqual((await api('GET', `/v1/locations/${other.id}/requests`)).body, { items: [], errorsLast5m: 0 });
    assert.equal((await api('GET', `/v1/locations/00000000-0000-4000-8000-000000000000/requests`)).status, 404);
    assert.equal((await api('GET', `/v1/locations/${loc.id}/requests`, { token: null })).status, 401);
  });

  it("pages through a location's Dojo events and outbox, newest first, never another location's", async () => {
    for (const [l, n] of [[loc, 3], [other, 1]] as const) {
      for (let i = 0; i < n; i++) {
        await db.prisma.dojoEvent.create({
          data: {
            locationId: l.id, dojoAccountId: l.dojoAccountId, eventId: `evt_${l.name}_${i}`, eventType: 'payment_intent.status_updated',
            paymentIntentId: `pi_${i}`, paymentStatus: 'Captured', occurredAt: new Date(), channel: 'webhook', payload: {},
            receivedAt: new Date(Date.now() - (10 - i) * 1000), state: i === 0 ? 'applied' : 'received',
          },
        });
        await db.prisma.outboxEvent.create({
          data: { locationId: l.id, eventType: 'OrderUpdated', entityType: 'order', entityId: `o${i}`, payload: { secret: 'not shown' } },
        });
      }
    }
    const first = await api('GET', `/v1/locations/${loc.id}/dojo-events?limit=2`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.items.map((e: { eventId: string }) => e.eventId), ['evt_Kings Head_2', 'evt_Kings Head_1']);
    assert.ok(first.body.nextCursor);
    assert.equal(first.body.items[0].state, 'received');
    assert.ok(!('payload' in first.body.items[0]));
    const second = await api('GET', `/v1/locations/${loc.id}/dojo-events?limit=2&cursor=${first.body.nextCursor}`);
    assert.deepEqual(second.body.items.map((e: { eventId: string; state: string }) => [e.eventId, e.state]), [['evt_Kings Head_0', 'applied']]);
    assert.equal(second.body.nextCursor, null);
    assert.equal((await api('GET', `/v1/locations/${loc.id}/dojo-events?cursor=bogus`)).status, 400);
    // Forged cursors that decode but that Postgres could not take are 400s too, not failed queries.
    for (const forged of ['0000-01-01T00:00:00.000Z|' + loc.id, '2026-01-01T00:00:00.000Z|------------------------------------']) {
      const r = await api('GET', `/v1/locations/${loc.id}/dojo-events?cursor=${Buffer.from(forged).toString('base64url')}`);
      assert.equal(r.status, 400, `${forged}: ${JSON.stringify(r.body)}`);
    }

    const ob1 = await api('GET', `/v1/locations/${loc.id}/outbox?limit=2`);
    assert.equal(ob1.status, 200, JSON.stringify(ob1.body));
    assert.deepEqual(ob1.body.items.map((e: { entityId: string }) => e.entityId), ['o2', 'o1']);
    assert.equal(ob1.body.items[0].state, 'pending');
    assert.ok(!JSON.stringify(ob1.body).includes('not shown'), 'payloads are not shown');
    const ob2 = await api('GET', `/v1/locations/${loc.id}/outbox?limit=2&cursor=${ob1.body.nextCursor}`);
    assert.deepEqual(ob2.body.items.map((e: { entityId: string }) => e.entityId), ['o0']);
    assert.equal(ob2.body.nextCursor, null);
    assert.equal((await api('GET', `/v1/locations/${loc.id}/outbox?cursor=x1`)).status, 400);
    assert.equal((await api('GET', `/v1/locations/${loc.id}/outbox?cursor=9999999999999999999`)).status, 400);
    assert.equal((await api('GET', `/v1/locations/00000000-0000-4000-8000-000000000000/outbox`)).status, 404);
  });

  it('serves /console with a strict content security policy', async () => {
    const res = await fetch(`${admin.url}/console`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(res.headers.get('content-security-policy') ?? '', /connect-src 'self';/, "sockets to this origin only, not ws: or wss: anywhere");
    assert.match(await res.text(), /<main id="main"/);
    assert.equal((await fetch(`${admin.url}/console/console.js`)).status, 200);
    assert.equal((await fetch(`${admin.url}/console/nope.js`)).status, 404);
  });

  it("the fleet's protocol filter offers every protocol a location can have", async () => {
    const html = await (await fetch(`${admin.url}/console`)).text();
    const select = /<select id="protocol-filter"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? '';
    const offered = [...select.matchAll(/<option(?: value="([^"]*)")?>([^<]*)<\/option>/g)].map((m) => m[1] ?? m[2]).filter(Boolean);
    assert.deepEqual(offered, [...LOCATION_PROTOCOLS]);
  });

  const open = async () => {
    const ws = new WebSocket(`${admin.url.replace(/^http/, 'ws')}/console/ws`);
    const messages: { event: string; data: any }[] = [];
    ws.on('message', (m: WebSocket.RawData) => messages.push(JSON.parse(Buffer.isBuffer(m) ? m.toString('utf8') : Buffer.from(m as ArrayBuffer).toString('utf8'))));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, messages, closed };
  };

  it('the live fleet socket refuses a wrong token, then pushes a snapshot and status changes', async () => {
    const bad = await open();
    bad.ws.send(JSON.stringify({ event: 'auth', data: { token: 'wrong-token-wrong-token' } }));
    assert.equal(await bad.closed, 4401);
    assert.ok(!bad.messages.some((m) => m.event === 'snapshot'), 'nothing shown without the token');

    const c = await open();
    c.ws.send(JSON.stringify({ event: 'auth', data: { token: OPERATOR_TOKEN } }));
    const snap = await waitFor(() => c.messages.find((m) => m.event === 'snapshot'), 'snapshot');
    const item = snap.data.items.find((i: { id: string }) => i.id === loc.id);
    assert.equal(item.name, 'Kings Head');
    assert.equal(item.protocol, 'epos-data');
    assert.equal(item.state, 'unowned');
    assert.equal(item.errorsLast5m, 3, 'the recent errors of the record above');

    await writeConnectionStatus(redis, prefix, {
      locationId: other.id, state: 'open', since: new Date().toISOString(), replicaId: 'gw-test', reconnects: 2, requestsServed: 7,
      lastPongAt: new Date().toISOString(),
    });
    const upd = await waitFor(
      () => c.messages.find((m) => m.event === 'update' && m.data.items.some((i: { id: string; state: string }) => i.id === other.id && i.state === 'open')),
      'an update with the new state',
      6_000,
    );
    const pushed = upd.data.items.find((i: { id: string }) => i.id === other.id);
    assert.equal(pushed.replicaId, 'gw-test');
    assert.equal(pushed.requestsServed, 7);
    assert.ok(!upd.data.items.some((i: { id: string }) => i.id === loc.id), 'only what changed is pushed');

    // A new error reply at that venue: its requestsServed moves, its record is read again and the count is pushed.
    const writer = new RequestLogWriter(redis, prefix);
    writer.record(other.id, { at: new Date().toISOString(), method: 'GetOrderByIdV1', rpcId: 'x1', ms: 3, outcome: 'error', errorType: 'NotFound', traceId: 't' });
    await writer.flush();
    await writeConnectionStatus(redis, prefix, {
      locationId: other.id, state: 'open', since: pushed.since, replicaId: 'gw-test', reconnects: 2, requestsServed: 8, lastPongAt: pushed.lastPongAt,
    });
    await waitFor(
      () => c.messages.find((m) => m.event === 'update' && m.data.items.some((i: { id: string; errorsLast5m: number }) => i.id === other.id && i.errorsLast5m === 1)),
      'the new error count pushed',
      6_000,
    );
    c.ws.close();
    await c.closed;
  });

  it('sockets waiting to sign in are capped: one more is closed at once, a signed-in page is not held up by them', async () => {
    const waiting = await Promise.all(Array.from({ length: CONSOLE_MAX_UNSIGNED }, () => open()));
    const extra = await open();
    assert.equal(await extra.closed, 1013, 'the socket past the cap is closed at once');
    // Signing in frees a place: an operator's page gets in as soon as one waiting socket goes.
    waiting[0]!.ws.send(JSON.stringify({ event: 'auth', data: { token: OPERATOR_TOKEN } }));
    await waitFor(() => waiting[0]!.messages.find((m) => m.event === 'snapshot'), 'snapshot');
    const next = await open();
    next.ws.send(JSON.stringify({ event: 'auth', data: { token: OPERATOR_TOKEN } }));
    await waitFor(() => next.messages.find((m) => m.event === 'snapshot'), 'snapshot of the next page');
    for (const c of [...waiting, next]) c.ws.close();
    await Promise.all([...waiting, next].map((c) => c.closed));
  });

  it('while Redis is away the fleet shows state unknown and says it is not live, at sign-in too; live again once it is back', async () => {
    const watching = await open();
    watching.ws.send(JSON.stringify({ event: 'auth', data: { token: OPERATOR_TOKEN } }));
    const live = await waitFor(() => watching.messages.find((m) => m.event === 'snapshot'), 'snapshot');
    assert.equal(live.data.stale, undefined, 'live at first');

    await proxy.cut();
    try {
      const down = await waitFor(() => watching.messages.find((m) => m.event === 'update' && m.data.stale), 'an update that says the page is not live', 10_000);
      assert.match(down.data.stale, /connection states cannot be read/);
      const states = new Map(down.data.items.map((i: { id: string; state: string }) => [i.id, i.state]));
      assert.equal(states.get(loc.id), 'unknown', 'no state from before the outage stays on the page');
      assert.equal(states.get(other.id), 'unknown');

      // A page signing in meanwhile gets the locations (from Postgres) with state unknown, not a closed socket.
      const late = await open();
      late.ws.send(JSON.stringify({ event: 'auth', data: { token: OPERATOR_TOKEN } }));
      const snap = await waitFor(() => late.messages.find((m) => m.event === 'snapshot' || m.event === 'error'), 'an answer to the sign-in', 10_000);
      assert.equal(snap.event, 'snapshot', JSON.stringify(snap));
      assert.match(snap.data.stale, /connection states cannot be read/);
      assert.deepEqual(
        snap.data.items.map((i: { name: string; state: string }) => [i.name, i.state]),
        [['Kings Head', 'unknown'], ['Queens Arms', 'unknown']],
      );
      late.ws.close();
      await late.closed;
    } finally {
      await proxy.restore();
    }
    await writeConnectionStatus(redis, prefix, {
      locationId: other.id, state: 'backing_off', since: new Date().toISOString(), replicaId: 'gw-test', reconnects: 3, requestsServed: 8,
    });
    const back = await waitFor(
      () => watching.messages.find((m) => m.event === 'update' && !m.data.stale && m.data.items.some((i: { id: string }) => i.id === other.id)),
      'an update without stale once Redis is back',
      15_000,
    );
    assert.equal(back.data.items.find((i: { id: string }) => i.id === other.id).state, 'backing_off');
    watching.ws.close();
    await watching.closed;
  });

  it("a watching console does not hold up the admin's graceful shutdown", async () => {
    const c = await open();
    c.ws.send(JSON.stringify({ event: 'auth', data: { token: OPERATOR_TOKEN } }));
    await waitFor(() => c.messages.find((m) => m.event === 'snapshot'), 'snapshot');
    const started = Date.now();
    adminClosed = true;
    await admin.close();
    assert.ok(Date.now() - started < 5_000, `closed in ${Date.now() - started} ms`);
    assert.equal(await c.closed, 1001, 'the page is told the admin is going away');
  });
});
