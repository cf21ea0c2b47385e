import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import type { RunningApp } from '@app/common';
import { createRedis } from '@app/common';
import { writeConnectionStatus } from '@app/queue';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, testRedisUrl, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { DojoStandIn } from './support/dojo-stand-in';
import type { Api } from './support/helpers';
import { apiClient, sampleOrder, sandboxKey } from './support/helpers';

/** The operator list filters and pagination, unknown query parameters, and venue writes that name tables. */
describe('admin list filters, query checks and table references', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  let api: Api;
  let redis: Redis;
  const prefix = uniquePrefix('adminlists');
  let sh1: string;
  let sh2: string;
  const loc: Record<'a' | 'b' | 'c', { id: string; dojoAccountId: string }> = {} as never;
  let venueA: Api;
  let venueB: Api;

  before(async () => {
    db = await createTestDatabase('adminlists');
    dojo = await new DojoStandIn().start();
    redis = createRedis(testRedisUrl());
    admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: 'op-token-0123456789abcdef', DOJO_API_URL: dojo.url, QUEUE_PREFIX: prefix }));
    api = apiClient(admin.url);
    sh1 = (await api('POST', '/v1/software-houses', { body: { name: 'One', dojoSoftwareHouseId: 'sh-lists-1' } })).body.id;
    sh2 = (await api('POST', '/v1/software-houses', { body: { name: 'Two', dojoSoftwareHouseId: 'sh-lists-2' } })).body.id;
    const mk = async (key: 'a' | 'b' | 'c', sh: string) => {
      const dojoAccountId = `acc_lists_${key}`;
      const r = await api('POST', '/v1/locations', { body: { name: key, softwareHouseId: sh, dojoAccountId, apiKey: sandboxKey() } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      loc[key] = { id: r.body.id, dojoAccountId };
    };
    await mk('a', sh1);
    await mk('b', sh1);
    await mk('c', sh2);
    assert.equal((await api('POST', `/v1/locations/${loc.b.id}/disable`)).status, 200);
    venueA = apiClient(admin.url, (await api('POST', `/v1/locations/${loc.a.id}/venue-tokens`, { body: { name: 'a' } })).body.token);
    venueB = apiClient(admin.url, (await api('POST', `/v1/locations/${loc.b.id}/venue-tokens`, { body: { name: 'b' } })).body.token);
  });

  after(async () => {
    await admin?.close();
    redis?.disconnect();
    await dojo?.stop();
    await db?.drop();
  });

  const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((l) => l.id).sort();

  it('filters locations by dojoAccountId, softwareHouseId, enabled and protocol, in the query', async () => {
    let r = await api('GET', `/v1/locations?dojoAccountId=${loc.a.dojoAccountId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(ids(r), [loc.a.id]);
    assert.equal(r.body.nextCursor, null);
    r = await api('GET', '/v1/locations?dojoAccountId=acc_nobody');
    assert.deepEqual(ids(r), []);
    r = await api('GET', `/v1/locations?softwareHouseId=${sh2}`);
    assert.deepEqual(ids(r), [loc.c.id]);
    r = await api('GET', `/v1/locations?softwareHouseId=${sh1}&enabled=true`);
    assert.deepEqual(ids(r), [loc.a.id]);
    r = await api('GET', '/v1/locations?enabled=false');
    assert.deepEqual(ids(r), [loc.b.id]);
    r = await api('GET', '/v1/locations?protocol=epos-data');
    assert.deepEqual(ids(r), [loc.a.id, loc.b.id, loc.c.id].sort());
    r = await api('GET', '/v1/locations?protocol=tables-v1');
    assert.equal(r.status, 400);
    assert.equal(r.body.fields[0].field, 'protocol');
    assert.match(r.body.fields[0].reason, /must be one of: epos-data/);
    r = await api('GET', '/v1/locations?enabled=yes');
    assert.equal(r.status, 400);
    assert.equal(r.body.fields[0].field, 'enabled');
  });

  it('filters by the connection state the gateways wrote to Redis', async () => {
    await writeConnectionStatus(redis, prefix, { locationId: loc.a.id, state: 'open', since: new Date().toISOString(), reconnects: 0, requestsServed: 0 });
    let r = await api('GET', '/v1/locations?connectionState=open');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(ids(r), [loc.a.id]);
    assert.equal(r.body.items[0].connection.state, 'open');
    r = await api('GET', '/v1/locations?connectionState=unowned');
    assert.deepEqual(ids(r), [loc.b.id, loc.c.id].sort());
    r = await api('GET', `/v1/locations?connectionState=unowned&softwareHouseId=${sh1}`);
    assert.deepEqual(ids(r), [loc.b.id]);
  });

  it('pages with limit and nextCursor, filters included', async () => {
    const all = [loc.a.id, loc.b.id, loc.c.id].sort();
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r = await api('GET', `/v1/locations?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...r.body.items.map((l: { id: string }) => l.id));
      cursor = r.body.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, all);
    const sh1Ids = [loc.a.id, loc.b.id].sort();
    const p1 = await api('GET', `/v1/locations?softwareHouseId=${sh1}&limit=1`);
    assert.deepEqual(ids(p1), [sh1Ids[0]]);
    assert.equal(p1.body.nextCursor, sh1Ids[0]);
    const p2 = await api('GET', `/v1/locations?softwareHouseId=${sh1}&limit=1&cursor=${p1.body.nextCursor}`);
    assert.deepEqual(ids(p2), [sh1Ids[1]]);
    assert.equal(p2.body.nextCursor, null);
    const p3 = await api('GET', `/v1/locations?connectionState=unowned&limit=1`);
    assert.equal(p3.body.items.length, 1);
    assert.ok(p3.body.nextCursor, 'a second unowned location follows');
  });

  it('documents the list filters in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${admin.url}/docs-json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema?: { enum?: string[] } }[] }>> };
    const params = doc.paths['/v1/locations']!.get!.parameters!.filter((p) => p.in === 'query');
    assert.deepEqual(params.map((p) => p.name).sort(), ['connectionState', 'cursor', 'dojoAccountId', 'enabled', 'limit', 'protocol', 'registrationState', 'softwareHouseId']);
    assert.deepEqual(params.find((p) => p.name === 'protocol')!.schema?.enum, ['epos-data', 'dojo-tables', 'connect-pat', 'connect-pac']);
  });

  it('refuses unknown query parameters with 400 naming them, on every list route of both APIs', async () => {
    let r = await api('GET', '/v1/locations?dojoAcountId=x&colour=red');
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.fields.map((f: { field: string }) => f.field), ['dojoAcountId', 'colour']);
    assert.match(r.body.message, /dojoAcountId, colour/);
    assert.match(r.body.fields[0].reason, /allowed: .*dojoAccountId/);
    for (const path of ['/v1/software-houses', `/v1/locations/${loc.a.id}/webhook-secrets`, `/v1/locations/${loc.a.id}/venue-tokens`]) {
      r = await api('GET', `${path}?bogus=1`);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.fields[0].field, 'bogus');
    }
    r = await venueA('GET', `/venue/v1/locations/${loc.a.id}/feed?afterr=5`);
    assert.equal(r.status, 400);
    assert.equal(r.body.fields[0].field, 'afterr');
    // Known parameters still work, and authentication is still checked first.
    assert.equal((await api('GET', '/v1/software-houses?limit=1')).status, 200);
    assert.equal((await venueA('GET', `/venue/v1/locations/${loc.a.id}/feed?limit=5`)).status, 200);
    assert.equal((await api('GET', '/v1/locations?bogus=1', { token: null })).status, 401);
  });

  it('refuses an order, party or reservation at a table the venue does not have, naming the field', async () => {
    const base = `/venue/v1/locations/${loc.a.id}`;
    // t1 exists only at venue B: for venue A it is unknown.
    assert.equal((await venueB('PUT', `/venue/v1/locations/${loc.b.id}/tables/t1`, { body: { name: 'T1' } })).status, 200);
    let r = await venueA('PUT', `${base}/orders/o-1`, { body: sampleOrder('o-1') });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.fields, [{ field: 'details.dineIn.tableId', reason: 'no table "t1" at this venue' }]);
    assert.equal(await db.prisma.order.count({ where: { locationId: loc.a.id } }), 0, 'nothing stored');

    assert.equal((await venueA('PUT', `${base}/tables/t1`, { body: { name: 'T1' } })).status, 200);
    r = await venueA('PUT', `${base}/orders/o-1`, { body: sampleOrder('o-1') });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    r = await venueA('PUT', `${base}/parties/p1`, { body: { tableIds: ['t1', 'ghost'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z' } });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.fields, [{ field: 'tableIds.1', reason: 'no table "ghost" at this venue' }]);
    r = await venueA('PUT', `${base}/reservations/r1`, {
      body: { name: 'Smith', covers: 2, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['ghost'] },
    });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.fields[0].field, 'tableIds.0');
    assert.equal(await db.prisma.party.count({ where: { locationId: loc.a.id } }), 0);
    assert.equal(await db.prisma.reservation.count({ where: { locationId: loc.a.id } }), 0);
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: loc.a.id, eventType: { not: 'OrderUpdated' } } }), 0, 'no POS event for a refused write');

    r = await venueA('PUT', `${base}/parties/p1`, { body: { tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
});
