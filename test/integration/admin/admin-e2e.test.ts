import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import type { RunningApp } from '@app/common';
import { createRedis } from '@app/common';
import type { LocationChangedMessage } from '@app/contracts';
import { ALL_CAPABILITIES, Channels } from '@app/contracts';
import { SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import { appendVenueFeed } from '@app/domain';
import { DispatchOutbox, OutboxLoop, OutboxRepository } from '@app/domain/outbox';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { createLogger } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, TEST_ENCRYPTION_KEY, testRedisUrl, uniquePrefix, waitFor, sleep } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startWorker } from '../../../apps/worker/src/main';
import { DojoStandIn } from './support/dojo-stand-in';
import { rpcJob } from '../worker/fixtures';
import type { Api } from './support/helpers';
import { apiClient, OPERATOR_TOKEN, sampleOrder, sandboxKey } from './support/helpers';

describe('admin app end to end (with a Dojo stand-in)', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  /** The worker app runs the registrations the admin app schedules. */
  let worker: RunningApp;
  let api: Api;
  let sub: Redis;
  const published: LocationChangedMessage[] = [];
  let softwareHouseId: string;
  let loop: OutboxLoop | undefined;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    db = await createTestDatabase('admine2e');
    dojo = await new DojoStandIn().start();
    const prefix = uniquePrefix('admin');
    sub = createRedis(testRedisUrl(), 'blocking');
    await sub.subscribe(Channels.locationChanged(prefix));
    sub.on('message', (_ch, msg) => published.push(JSON.parse(msg)));
    env = appEnv(db, {
      ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN,
      DOJO_API_URL: dojo.url,
      QUEUE_PREFIX: prefix,
      // The former ADMIN_ names, still accepted (read by both apps: admin schedules, the worker's sweep too).
      ADMIN_REGISTRATION_BACKOFF_MS: '50',
      ADMIN_REGISTRATION_ATTEMPTS: '6',
      // The outbox test below drives its own loop; the worker's passes only at boot and then once a minute.
      OUTBOX_POLL_MS: '60000',
    });
    admin = await startAdmin(env);
    worker = await startWorker(env);
    api = apiClient(admin.url);
    const sh = await api('POST', '/v1/software-houses', { body: { name: 'Tills Ltd', dojoSoftwareHouseId: `sh-${Date.now()}` } });
    assert.equal(sh.status, 201, JSON.stringify(sh.body));
    softwareHouseId = sh.body.id;
  });

  after(async () => {
    await loop?.stop();
    await admin?.close();
    await worker?.close();
    sub?.disconnect();
    await dojo?.stop();
    await db?.drop();
  });

  const onboard = (extra: Record<string, unknown> = {}) =>
    api('POST', '/v1/locations', {
      body: { name: 'The Anchor', softwareHouseId, dojoAccountId: `acc_${Math.random().toString(36).slice(2)}`, apiKey: sandboxKey(), ...extra },
    });

  it('answers constraint clashes as 409 or a field error, never 500', async () => {
    const shId = `sh-clash-${Date.now()}`;
    const first = await api('POST', '/v1/software-houses', { body: { name: 'Clash', dojoSoftwareHouseId: shId } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const again = await api('POST', '/v1/software-houses', { body: { name: 'Clash again', dojoSoftwareHouseId: shId } });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.match(again.body.message, /exists/);
    const other = await api('POST', '/v1/software-houses', { body: { name: 'Other', dojoSoftwareHouseId: `${shId}-b` } });
    const renamed = await api('PATCH', `/v1/software-houses/${other.body.id}`, { body: { dojoSoftwareHouseId: shId } });
    assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
    const unknownHouse = await onboard({ softwareHouseId: '00000000-0000-4000-8000-000000000000' });
    assert.equal(unknownHouse.status, 400, JSON.stringify(unknownHouse.body));
    assert.equal(unknownHouse.body.fields[0].field, 'softwareHouseId');
    const loc = await api('POST', '/v1/locations', {
      body: { name: 'Clash venue', softwareHouseId: first.body.id, dojoAccountId: `acc_clash_${Date.now()}`, apiKey: sandboxKey() },
    });
    assert.equal(loc.status, 201, JSON.stringify(loc.body));
    // Dojo's software-house-id goes out on the venue's link: changing it reaches the gateways through the location.
    const moved = await api('PATCH', `/v1/software-houses/${first.body.id}`, { body: { dojoSoftwareHouseId: `${shId}-new` } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const bumped = (await api('GET', `/v1/locations/${loc.body.id}`)).body;
    assert.equal(bumped.configVersion, loc.body.configVersion + 1);
    await waitFor(() => published.find((m) => m.locationId === loc.body.id && m.configVersion === bumped.configVersion), 'software house change published');
    const busy = await api('DELETE', `/v1/software-houses/${first.body.id}`);
    assert.equal(busy.status, 409, JSON.stringify(busy.body));
    assert.match(busy.body.message, /still has locations/);
  });

  it('onboarding registers the full capability set with Dojo, keeps the key secret and announces the location', async () => {
    const key = sandboxKey();
    const res = await onboard({ apiKey: key, resellerId: 'res-1' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const loc = res.body;
    assert.equal(loc.apiKeyLast4, key.slice(-4));
    assert.equal(loc.environment, 'sandbox');
    assert.deepEqual(loc.capabilities, ALL_CAPABILITIES);
    assert.ok(!JSON.stringify(loc).includes(key), 'the key is never shown');

    const put = await waitFor(
      () => dojo.find((r) => r.method === 'PUT' && r.path === '/epos/integrations/ws' && r.headers.authorization === `Basic ${key}`)[0],
      'registration PUT',
    );
    assert.deepEqual(put.body, { capabilities: ALL_CAPABILITIES.map((name) => ({ name, version: 'v1' })) });
    assert.equal(put.headers.version, '2026-02-27');
    assert.equal(put.headers['reseller-id'], 'res-1');

    const shown = await waitFor(async () => {
      const r = await api('GET', `/v1/locations/${loc.id}`);
      return r.body.registration.state === 'registered' ? r.body : undefined;
    }, 'registered state');
    assert.equal(shown.registration.error, null);
    assert.ok(shown.registration.registeredAt);
    assert.ok(typeof shown.connection.state === 'string', 'a connection state is shown (unknown until the gateway reports)');
    await waitFor(() => published.find((m) => m.locationId === loc.id), 'LocationChangedMessage');

    // The ciphertext decrypts to the key only with this location's associated data.
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id: loc.id } });
    assert.equal(new SecretBox(TEST_ENCRYPTION_KEY).decrypt(row.apiKeyCiphertext, `api-key:${loc.id}`), key);
  });

  it('retries a failed registration with backoff and records the outcome; a capability change registers the new set', async () => {
    const key = sandboxKey();
    let failures = 0;
    const stop = dojo.respond((r) => (r.headers.authorization === `Basic ${key}` && failures++ < 2 ? { status: 503, body: { title: 'down' } } : undefined));
    const res = await onboard({ apiKey: key });
    assert.equal(res.status, 201);
    const shown = await waitFor(async () => {
      const r = await api('GET', `/v1/locations/${res.body.id}`);
      return r.body.registration.state === 'registered' ? r.body : undefined;
    }, 'registered after retries');
    stop();
    assert.equal(shown.registration.attempts, 3);

    const patch = await api('PATCH', `/v1/locations/${res.body.id}`, { body: { capabilities: ['SearchOrders', 'GetOrderById', 'RecordOrderPayment'] } });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    assert.equal(patch.body.configVersion, shown.configVersion + 1);
    const put = await waitFor(
      () => dojo.find((r) => r.method === 'PUT' && r.headers.authorization === `Basic ${key}` && r.body.capabilities.length === 3)[0],
      'second registration PUT',
    );
    assert.deepEqual(put.body.capabilities.map((c: { name: string }) => c.name), ['SearchOrders', 'GetOrderById', 'RecordOrderPayment']);
    await waitFor(() => published.find((m) => m.locationId === res.body.id && m.configVersion === patch.body.configVersion), 'change published');
  });

  it('marks a registration Dojo refuses as failed, and re-syncs on request', async () => {
    const key = sandboxKey();
    let refuse = true;
    const stop = dojo.respond((r) => (refuse && r.headers.authorization === `Basic ${key}` ? { status: 401, body: { title: 'bad key' } } : undefined));
    const res = await onboard({ apiKey: key });
    const failed = await waitFor(async () => {
      const r = await api('GET', `/v1/locations/${res.body.id}`);
      return r.body.registration.state === 'failed' ? r.body : undefined;
    }, 'failed state');
    assert.match(failed.registration.error, /401/);
    refuse = false;
    stop();
    const resync = await api('POST', `/v1/locations/${res.body.id}/registration/resync`);
    assert.equal(resync.status, 202);
    await waitFor(async () => (await api('GET', `/v1/locations/${res.body.id}`)).body.registration.state === 'registered', 're-synced');
  });

  it('a registration still being retried survives a restart of the worker app that runs it', async () => {
    const key = sandboxKey();
    let down = true;
    const stop = dojo.respond((r) => (down && r.headers.authorization === `Basic ${key}` ? { status: 503 } : undefined));
    const res = await onboard({ apiKey: key });
    await waitFor(() => dojo.find((r) => r.headers.authorization === `Basic ${key}`).length >= 1, 'first attempt');
    await worker.close();
    down = false;
    stop();
    worker = await startWorker(env);
    const shown = await waitFor(async () => {
      const r = await api('GET', `/v1/locations/${res.body.id}`);
      return r.body.registration.state === 'registered' ? r.body : undefined;
    }, 'registered after the restart');
    assert.ok(shown.registration.attempts >= 2);
  });

  it('refuses unknown capabilities and malformed keys with field errors', async () => {
    const a = await onboard({ capabilities: ['SearchOrders', 'MakeCoffee'] });
    assert.equal(a.status, 400);
    assert.equal(a.body.fields[0].field, 'capabilities');
    const b = await onboard({ apiKey: 'pk_live_abcdef' });
    assert.equal(b.status, 400);
    assert.equal(b.body.fields[0].field, 'apiKey');
    const c = await api('POST', '/v1/locations', { raw: '{"not json' });
    assert.equal(c.status, 400);
  });

  it('onboards many venues in one request and reports each row', async () => {
    const dup = `acc_dup_${Date.now()}`;
    const res = await api('POST', '/v1/locations/bulk', {
      body: {
        locations: [
          { name: 'One', softwareHouseId, dojoAccountId: dup, apiKey: sandboxKey() },
          { name: 'Two', softwareHouseId, dojoAccountId: `acc_2_${Date.now()}`, apiKey: 'nope' },
          { name: 'Three', softwareHouseId, dojoAccountId: dup, apiKey: sandboxKey() },
        ],
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.created, 1);
    assert.equal(res.body.failed, 2);
    assert.deepEqual(res.body.results.map((r: { ok: boolean }) => r.ok), [true, false, false]);
    assert.equal(res.body.results[1].error.fields[0].field, 'apiKey');
    assert.equal(res.body.results[2].error.kind, 'conflict');
    // The stored row is announced after the batch and registered by the worker.
    const created = res.body.results[0].location as { id: string; configVersion: number };
    await waitFor(() => published.some((m) => m.locationId === created.id && m.configVersion === created.configVersion) || undefined, 'announced');
    await waitFor(async () => (await api('GET', `/v1/locations/${created.id}`)).body.registration.state === 'registered' || undefined, 'registered');
  });

  it('key rotation and disabling bump config_version and publish the change', async () => {
    const loc = (await onboard()).body;
    const newKey = `sk_prod_${'x'.repeat(20)}9876`;
    const rot = await api('PUT', `/v1/locations/${loc.id}/api-key`, { body: { apiKey: newKey } });
    assert.equal(rot.status, 200);
    assert.equal(rot.body.apiKeyLast4, '9876');
    assert.equal(rot.body.environment, 'production');
    assert.equal(rot.body.configVersion, loc.configVersion + 1);
    await waitFor(() => published.find((m) => m.locationId === loc.id && m.configVersion === rot.body.configVersion), 'rotation published');
    const dis = await api('POST', `/v1/locations/${loc.id}/disable`);
    assert.equal(dis.status, 200);
    assert.equal(dis.body.enabled, false);
    await waitFor(() => published.find((m) => m.locationId === loc.id && m.configVersion === dis.body.configVersion), 'disable published');
    const list = await api('GET', `/v1/locations?enabled=false&limit=10`);
    assert.ok(list.body.items.some((l: { id: string }) => l.id === loc.id));
  });

  it('manages webhook secrets (several active) and subscribes through Dojo', async () => {
    const loc = (await onboard()).body;
    const a = await api('POST', `/v1/locations/${loc.id}/webhook-secrets`, { body: {} });
    assert.equal(a.status, 201);
    assert.ok(a.body.secret, 'a generated secret is shown once');
    const b = await api('POST', `/v1/locations/${loc.id}/webhook-secrets`, { body: { secret: 'a-provided-secret-value-123' } });
    assert.equal(b.body.secret, undefined);
    let list = await api('GET', `/v1/locations/${loc.id}/webhook-secrets`);
    assert.equal(list.body.filter((s: { state: string }) => s.state === 'active').length, 2);
    const before = published.filter((m) => m.locationId === loc.id).length;
    assert.equal((await api('POST', `/v1/locations/${loc.id}/webhook-secrets/${a.body.id}/retire`)).body.state, 'retired');
    // Webhook apps cache active secrets briefly; the change message makes a retirement take effect at once.
    await waitFor(() => published.filter((m) => m.locationId === loc.id).length > before, 'retirement published');
    assert.equal((await api('POST', `/v1/locations/${loc.id}/webhook-secrets/${a.body.id}/activate`)).body.state, 'active');
    const row = await db.prisma.webhookSecret.findUniqueOrThrow({ where: { id: b.body.id } });
    assert.equal(new SecretBox(TEST_ENCRYPTION_KEY).decrypt(row.secretCiphertext, `webhook-secret:${b.body.id}`), 'a-provided-secret-value-123');

    const subRes = await api('POST', `/v1/locations/${loc.id}/webhook-subscription`, { body: { url: 'https://hooks.example.com/dojo' } });
    assert.equal(subRes.status, 201, JSON.stringify(subRes.body));
    assert.equal(subRes.body.subscriptionId, 'ws_standin1');
    const hook = dojo.find((r) => r.method === 'POST' && r.path === '/webhooks').at(-1)!;
    assert.deepEqual(hook.body, { events: ['payment_intent.created', 'payment_intent.status_updated'], url: 'https://hooks.example.com/dojo' });
    list = await api('GET', `/v1/locations/${loc.id}/webhook-secrets`);
    assert.equal(list.body.length, 3);
  });

  it('a venue order upsert reaches Dojo as a POS event through the outbox, in order and after an outage', async () => {
    const loc = (await onboard()).body;
    const tok = await api('POST', `/v1/locations/${loc.id}/venue-tokens`, { body: { name: 'till 1' } });
    assert.equal(tok.status, 201);
    const venue = apiClient(admin.url, tok.body.token);
    const row = await db.prisma.venueToken.findUniqueOrThrow({ where: { id: tok.body.id } });
    assert.notEqual(row.tokenHash, tok.body.token);
    assert.equal((await venue('PUT', `/venue/v1/locations/${loc.id}/tables/t1`, { body: { name: 'T1' } })).status, 200);

    // Dojo is down at first: events wait in the outbox and go out once it answers.
    let down = true;
    const stop = dojo.respond((r) => (down && r.path === '/epos/events' ? { status: 503 } : undefined));
    const put1 = await venue('PUT', `/venue/v1/locations/${loc.id}/orders/o-1`, { body: sampleOrder('o-1') });
    assert.equal(put1.status, 200, JSON.stringify(put1.body));
    assert.equal(put1.body.created, true);
    const put2 = await venue('PUT', `/venue/v1/locations/${loc.id}/orders/o-2`, { body: sampleOrder('o-2', 900) });
    assert.equal(put2.status, 200);
    const stored = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'o-1' } }, include: { items: true } });
    assert.equal(stored.totalAmount, 2500n);
    assert.equal(stored.items.length, 1);
    assert.equal(stored.tableId, 't1');

    const dispatch = new DispatchOutbox(
      { outbox: new OutboxRepository(db.prisma), secretBox: new SecretBox(TEST_ENCRYPTION_KEY), dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1 }) },
      { backoffBaseMs: 30, backoffMaxMs: 100 },
    );
    loop = new OutboxLoop(dispatch, 20);
    loop.start();
    await waitFor(async () => (await db.prisma.outboxEvent.findFirst({ where: { locationId: loc.id, attempts: { gte: 2 } } })) !== null, 'failed attempts');
    down = false;
    stop();
    const events = await waitFor(() => {
      const got = dojo.find((r) => r.method === 'POST' && r.path === '/epos/events' && r.headers.authorization?.includes(loc.apiKeyLast4) && r.body && true);
      const ok = got.filter((r) => r.at > 0);
      return ok.length >= 2 ? ok : undefined;
    }, 'POS events delivered');
    assert.ok(events.some((e) => JSON.stringify(e.body) === JSON.stringify({ eventType: 'OrderUpdated', event: { orderId: 'o-1' } })));
    await waitFor(async () => (await db.prisma.outboxEvent.count({ where: { locationId: loc.id, state: 'pending' } })) === 0, 'outbox drained');
    const sent = await db.prisma.outboxEvent.findMany({ where: { locationId: loc.id } });
    assert.ok(sent.every((s) => s.state === 'sent'));

    // A further change goes out again.
    await venue('PUT', `/venue/v1/locations/${loc.id}/orders/o-1`, { body: sampleOrder('o-1', 2600) });
    await waitFor(async () => (await db.prisma.outboxEvent.count({ where: { locationId: loc.id, state: 'pending' } })) === 0, 'second event sent');
    const o1 = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'o-1' } } });
    assert.equal(o1.version, 2);
  });

  it('refuses invalid venue data with field errors, and a locked order with 409 and the expiry', async () => {
    const loc = (await onboard()).body;
    const tok = await api('POST', `/v1/locations/${loc.id}/venue-tokens`, { body: { name: 'till' } });
    const venue = apiClient(admin.url, tok.body.token);
    const base = `/venue/v1/locations/${loc.id}`;
    assert.equal((await venue('PUT', `${base}/tables/t1`, { body: { name: 'T1' } })).status, 200);
    const bad = sampleOrder('o-9') as any;
    bad.items[0].quantity = 'two';
    let r = await venue('PUT', `${base}/orders/o-9`, { body: bad });
    assert.equal(r.status, 400);
    assert.match(r.body.fields[0].field, /items\.0\.quantity/);
    const wrongCurrency = sampleOrder('o-9') as any;
    wrongCurrency.items[0].amountPerItem.currencyCode = 'EUR';
    r = await venue('PUT', `${base}/orders/o-9`, { body: wrongCurrency });
    assert.equal(r.status, 400);
    assert.equal(r.body.fields[0].field, 'items.0.amountPerItem.currencyCode');
    // One currency throughout, but not an ISO 4217 code: refused at the total's, not stored for Dojo to refuse later.
    for (const code of ['gbp', 'GB', 'POUND']) {
      r = await venue('PUT', `${base}/orders/o-9`, { body: JSON.parse(JSON.stringify(sampleOrder('o-9')).replaceAll('"GBP"', JSON.stringify(code))) });
      assert.equal(r.status, 400, `${code}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.fields.map((f: { field: string }) => f.field), ['totalAmount.currencyCode'], code);
      assert.match(r.body.fields[0].reason, /ISO 4217/);
    }
    assert.equal(await db.prisma.order.count({ where: { locationId: loc.id, id: 'o-9' } }), 0);
    r = await venue('PUT', `${base}/orders/o-9`, { body: { ...sampleOrder('o-8') } });
    assert.equal(r.status, 400, 'body id must match the path');

    assert.equal((await venue('PUT', `${base}/orders/o-9`, { body: sampleOrder('o-9') })).status, 200);
    const expiresAt = new Date(Date.now() + 60_000);
    await db.prisma.orderLock.create({ data: { locationId: loc.id, orderId: 'o-9', lockId: 'lk-1', expiresAt } });
    r = await venue('PUT', `${base}/orders/o-9`, { body: sampleOrder('o-9', 100) });
    assert.equal(r.status, 409);
    assert.equal(r.body.lockExpiresAt, expiresAt.toISOString());
    assert.equal((await venue('DELETE', `${base}/orders/o-9`)).status, 409);
    await db.prisma.orderLock.update({ where: { locationId_orderId: { locationId: loc.id, orderId: 'o-9' } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await venue('PUT', `${base}/orders/o-9`, { body: sampleOrder('o-9', 100) })).status, 200, 'an expired lock no longer blocks');

    // Areas, tables, parties, reservations, bill template.
    assert.equal((await venue('PUT', `${base}/areas/a1`, { body: { name: 'Terrace', waiterIds: ['w1'] } })).status, 200);
    assert.equal((await venue('PUT', `${base}/tables/t1`, { body: { name: 'T1', areaId: 'a1', maxCovers: 4 } })).status, 200);
    r = await venue('PUT', `${base}/tables/t2`, { body: { name: 'T2', areaId: 'nope' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.fields[0].field, 'areaId');
    assert.equal((await venue('DELETE', `${base}/areas/a1`)).status, 409);
    r = await venue('PUT', `${base}/parties/p1`, { body: { tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers: 2 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await venue('PUT', `${base}/parties/p2`, { body: { tableIds: [], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z' } });
    assert.equal(r.status, 400);
    // A party's covers, when given, count guests: at least 1, as a reservation's.
    for (const covers of [-1, 0]) {
      r = await venue('PUT', `${base}/parties/p3`, { body: { tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers } });
      assert.equal(r.status, 400, `${covers}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.fields[0].field, 'covers');
    }
    assert.equal(await db.prisma.party.count({ where: { locationId: loc.id, id: 'p3' } }), 0);
    r = await venue('PUT', `${base}/reservations/r1`, {
      body: { name: 'Smith', covers: 4, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['t1'] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await venue('PUT', `${base}/reservations/r2`, {
      body: { name: 'Jones', covers: 4, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T18:00:00.000Z', tableIds: ['t1'] },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.fields[0].field, 'endTime');
    r = await venue('PUT', `${base}/bill-template`, { body: { header: [{ lineType: 'Text', text: { value: 'Welcome', size: 'Body' } }], footer: [] } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await venue('PUT', `${base}/bill-template`, { body: { header: [{ text: { value: 'x' } }] } });
    assert.equal(r.status, 400);
    const kinds = (await db.prisma.outboxEvent.findMany({ where: { locationId: loc.id }, orderBy: { id: 'asc' } })).map((e) => e.eventType);
    assert.ok(kinds.includes('PartyUpdated') && kinds.includes('ReservationUpdated') && kinds.includes('OrderUpdated'));
    assert.equal((await venue('DELETE', `${base}/parties/p1`)).status, 204);
    assert.equal((await venue('DELETE', `${base}/reservations/r1`)).status, 204);
  });

  it('the venue feed shows a recorded payment once, and never skips an entry that commits late', async () => {
    const loc = (await onboard()).body;
    const tok = await api('POST', `/v1/locations/${loc.id}/venue-tokens`, { body: { name: 'till' } });
    const venue = apiClient(admin.url, tok.body.token);
    const feed = (after?: string) => venue('GET', `/venue/v1/locations/${loc.id}/feed${after ? `?after=${after}` : ''}`);

    await db.prisma.$transaction((tx) => appendVenueFeed(tx, loc.id, 'payment.recorded', 'payment', 'pi_1', { orderId: 'o-1', paidAmount: { value: 500, currencyCode: 'GBP' } }));
    const first = await waitFor(async () => {
      const r = await feed();
      return r.body.entries.length === 1 ? r.body : undefined;
    }, 'payment in the feed');
    assert.equal(first.entries[0].kind, 'payment.recorded');
    assert.equal(first.entries[0].entityId, 'pi_1');
    assert.equal((await feed(first.cursor)).body.entries.length, 0, 'nothing twice');

    // A payment recorded by the worker's RecordOrderPayment shows once, even when Dojo retries it.
    assert.equal((await venue('PUT', `/venue/v1/locations/${loc.id}/tables/t1`, { body: { name: 'T1' } })).status, 200);
    assert.equal((await venue('PUT', `/venue/v1/locations/${loc.id}/orders/o-pay`, { body: sampleOrder('o-pay') })).status, 200);
    const dispatcher = new RpcDispatcher({
      prisma: db.prisma,
      logger: createLogger('test', 'silent'),
      events: { ingest: async () => ({ eventRowId: '', duplicate: false }) },
    });
    const job = rpcJob(loc.id, 'RecordOrderPaymentByIdV1', { orderId: 'o-pay', paymentIntentId: 'pi_pay', paidAmount: { value: 1000, currencyCode: 'GBP' } }, { rpcId: 'rpc-1' });
    const record = async () => assert.ok('result' in (await dispatcher.handle(job)));
    await record();
    await record();
    const paid = await waitFor(async () => {
      const r = await feed(first.cursor);
      return r.body.entries.length >= 1 ? r.body : undefined;
    }, 'recorded payment in the feed');
    assert.deepEqual(paid.entries.map((e: { kind: string; entityId: string }) => `${e.kind}:${e.entityId}`), ['payment.recorded:o-pay']);
    assert.equal(paid.entries[0].data.paymentIntentId, 'pi_pay');
    assert.equal((await feed(paid.cursor)).body.entries.length, 0, 'nothing twice');
    first.cursor = paid.cursor;

    // A writes first (smaller id) but commits after B: the reader must not pass A.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let aWrote!: () => void;
    const aWroteP = new Promise<void>((r) => (aWrote = r));
    const txA = db.prisma.$transaction(
      async (tx) => {
        await appendVenueFeed(tx, loc.id, 'lock.created', 'order', 'o-A', {});
        aWrote();
        await gate;
      },
      { timeout: 20_000 },
    );
    await aWroteP;
    await appendVenueFeed(db.prisma, loc.id, 'lock.released', 'order', 'o-B', {});
    await sleep(200);
    const during = await feed(first.cursor);
    assert.equal(during.body.entries.length, 0, 'B is held back while A (older) is in flight');
    release();
    await txA;
    const afterCommit = await waitFor(async () => {
      const r = await feed(first.cursor);
      return r.body.entries.length === 2 ? r.body : undefined;
    }, 'both entries');
    assert.deepEqual(afterCommit.entries.map((e: { entityId: string }) => e.entityId), ['o-A', 'o-B']);
    assert.equal((await feed(afterCommit.cursor)).body.entries.length, 0);
    assert.equal((await feed('garbage')).status, 400);
  });
});
