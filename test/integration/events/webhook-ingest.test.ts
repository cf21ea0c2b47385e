import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { startWebhook } from '../../../apps/webhook/src/main';
import type { RunningApp } from '@app/common';
import { QueueName, queuePrefix } from '@app/queue';
import { sign } from '@app/domain/events/webhook-signature';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';

const OLD = 'old-secret-still-active';
const NEW = 'PDYkJQq6sESYHp_zJuTTBQ';
const RETIRED = 'retired-secret';
const MAX = 2048;

describe('POST /webhooks/dojo', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let app: RunningApp;
  let loc: LocationFixture;
  let queue: Queue;
  const prefix = uniquePrefix('evwh');

  before(async () => {
    db = await createTestDatabase('events-webhook');
    fx = fixtures(db.prisma);
    loc = await fx.location({ webhookSecrets: [{ value: OLD }, { value: NEW }, { value: RETIRED, state: 'retired' }] });
    app = await startWebhook(appEnv(db, { QUEUE_PREFIX: prefix, WEBHOOK_MAX_BODY_BYTES: String(MAX) }));
    queue = new Queue(QueueName.DojoEvents, { connection: { url: testRedisUrl() }, prefix: queuePrefix(prefix, QueueName.DojoEvents) });
  });

  after(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined); // best effort (teardown)
    await queue?.close();
    await app?.close();
    await db?.drop();
  });

  const body = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id,
      event: 'payment_intent.status_updated',
      accountId: loc.dojoAccountId,
      createdAt: '2026-11-21T10:00:00.123Z',
      data: { paymentIntentId: 'pi_1', paymentStatus: 'Captured', captureMode: 'Auto' },
      ...extra,
    });

  const post = (raw: string | Buffer, headers: Record<string, string>) =>
    fetch(`${app.url}/webhooks/dojo`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw, signal: AbortSignal.timeout(5_000) });

  const count = () => db.prisma.dojoEvent.count();

  it('stores a correctly signed event, enqueues it, and answers 200', async () => {
    const raw = body('evt_ok');
    const res = await post(raw, { 'Dojo-Signature': sign(NEW, raw) });
    assert.equal(res.status, 200);
    const json = (await res.json()) as { received: boolean; duplicate: boolean };
    assert.deepEqual([json.received, json.duplicate], [true, false]);
    const row = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { dojoAccountId_eventId: { dojoAccountId: loc.dojoAccountId, eventId: 'evt_ok' } } });
    assert.equal(row.locationId, loc.id);
    assert.equal(row.channel, 'webhook');
    assert.equal(row.paymentIntentId, 'pi_1');
    assert.equal(row.paymentStatus, 'Captured');
    assert.equal(row.occurredAt.toISOString(), '2026-11-21T10:00:00.123Z');
    assert.equal(row.state, 'received'); // the webhook app does not apply events
    // The answer does not wait for the queue (the row is what 200 promises): the job follows within moments.
    const job = await waitFor(() => queue.getJob(row.id), 'a job with id = row id was enqueued', 5_000, 20);
    assert.deepEqual(job.data, { eventRowId: row.id, facts: { locationId: loc.id, paymentIntentId: 'pi_1', paymentStatus: 'Captured' } }, 'the job carries the row\'s facts');
  });

  it('accepts the old secret during rotation and any header-name case', async () => {
    const raw = body('evt_old');
    const res = await post(raw, { 'DOJO-SIGNATURE': sign(OLD, raw) });
    assert.equal(res.status, 200);
  });

  it('answers a duplicate with 200 and only counts the delivery', async () => {
    const raw = body('evt_dup');
    const first = await post(raw, { 'dojo-signature': sign(NEW, raw) });
    assert.equal(first.status, 200);
    const before = await count();
    const again = await post(raw, { 'dojo-signature': sign(OLD, raw) });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { duplicate: boolean }).duplicate, true);
    assert.equal(await count(), before);
    const row = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { dojoAccountId_eventId: { dojoAccountId: loc.dojoAccountId, eventId: 'evt_dup' } } });
    assert.equal(row.deliveries, 2);
  });

  it('serves the route on Node directly, as Express matched it, and leaves every other route to the app', async () => {
    const raw = body('evt_route');
    for (const path of ['/webhooks/dojo?x=1', '/Webhooks/Dojo', '/webhooks/dojo/']) {
      const r = await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'dojo-signature': sign(NEW, raw) }, body: raw });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
      // Express would have added these: the answer did not go through it.
      assert.equal(r.headers.get('x-powered-by'), null, path);
      assert.equal(r.headers.get('etag'), null, path);
      assert.equal(((await r.json()) as { duplicate: boolean }).duplicate, path !== '/webhooks/dojo?x=1', path);
    }
    for (const [method, path] of [['GET', '/webhooks/dojo'], ['POST', '/webhooks/dojo/x'], ['POST', '/webhooks']] as const) {
      const r = await fetch(`${app.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.headers.get('x-powered-by'), 'Express', `${method} ${path} is the app's`);
      await r.arrayBuffer();
    }
    assert.equal((await fetch(`${app.url}/health`)).status, 200);
  });

  it('refuses bad deliveries with a 4xx and stores nothing', async () => {
    const before = await count();
    const raw = body('evt_bad');
    const cases: Array<[string, Promise<Response>, number]> = [
      ['missing signature', post(raw, {}), 401],
      ['retired secret', post(raw, { 'dojo-signature': sign(RETIRED, raw) }), 401],
      ['unknown secret', post(raw, { 'dojo-signature': sign('nope', raw) }), 401],
      ['tampered body', post(raw.replace('Captured', 'Refunded'), { 'dojo-signature': sign(NEW, raw) }), 401],
      ['mangled header', post(raw, { 'dojo-signature': sign(NEW, raw).replaceAll('-', '') }), 401],
      ['unknown account', post(body('evt_bad', { accountId: 'acc_unknown' }), { 'dojo-signature': sign(NEW, body('evt_bad', { accountId: 'acc_unknown' })) }), 401],
      ['malformed JSON', post('{"id":', { 'dojo-signature': sign(NEW, '{"id":') }), 400],
      ['signed but invalid shape', post(body('evt_bad', { createdAt: 'soon' }), { 'dojo-signature': sign(NEW, body('evt_bad', { createdAt: 'soon' })) }), 400],
    ];
    const told = new Map<string, string>();
    for (const [what, res, status] of cases) {
      const r = await res.catch((err) => assert.fail(`${what}: ${(err as Error).message}`));
      assert.equal(r.status, status, what);
      const j = (await r.json()) as { error: string };
      assert.ok(j.error, `${what}: a reason is given`);
      told.set(what, j.error);
    }
    // No oracle of onboarded accounts: an unknown account reads exactly as a signature by another secret.
    assert.equal(told.get('unknown account'), told.get('unknown secret'));
    assert.equal(told.get('unknown account'), told.get('retired secret'));
    const big = body('evt_big', { pad: 'x'.repeat(MAX) });
    const r = await post(big, { 'dojo-signature': sign(NEW, big) });
    assert.equal(r.status, 413);
    await r.arrayBuffer();
    assert.equal(await count(), before);
  });
});
