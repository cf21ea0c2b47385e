import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { DojoStandIn } from './support/dojo-stand-in';
import type { Api } from './support/helpers';
import { apiClient, OPERATOR_TOKEN, sampleOrder, sandboxKey } from './support/helpers';

describe('admin authorization and OpenAPI document', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  let api: Api;
  let locA: string;
  let locB: string;
  let tokenA: string;
  let tokenB: string;
  let shId: string;

  before(async () => {
    db = await createTestDatabase('adminauth');
    dojo = await new DojoStandIn().start();
    admin = await startAdmin(
      appEnv(db, { ADMIN_OPERATOR_TOKENS: `other-token-abcdefghijk,${OPERATOR_TOKEN}`, DOJO_API_URL: dojo.url, QUEUE_PREFIX: uniquePrefix('adminauth') }),
    );
    api = apiClient(admin.url);
    shId = (await api('POST', '/v1/software-houses', { body: { name: 'SH', dojoSoftwareHouseId: 'sh-auth' } })).body.id;
    const mk = async (n: string) =>
      (await api('POST', '/v1/locations', { body: { name: n, softwareHouseId: shId, dojoAccountId: `acc_${n}`, apiKey: sandboxKey() } })).body.id as string;
    locA = await mk('a');
    locB = await mk('b');
    tokenA = (await api('POST', `/v1/locations/${locA}/venue-tokens`, { body: { name: 'a' } })).body.token;
    tokenB = (await api('POST', `/v1/locations/${locB}/venue-tokens`, { body: { name: 'b' } })).body.token;
    // sampleOrder is at table t1, which must exist at the venue.
    assert.equal((await api('PUT', `/venue/v1/locations/${locA}/tables/t1`, { token: tokenA, body: { name: 'T1' } })).status, 200);
  });

  after(async () => {
    await admin?.close();
    await dojo?.stop();
    await db?.drop();
  });

  it('refuses the operator API without a token, with a wrong token, and with a venue token', async () => {
    assert.equal((await api('GET', '/v1/locations', { token: null })).status, 401);
    assert.equal((await api('GET', '/v1/locations', { token: 'wrong-token-0123456789' })).status, 401);
    assert.equal((await api('GET', '/v1/locations', { token: tokenA })).status, 401);
    assert.equal((await api('POST', '/v1/software-houses', { token: tokenA, body: { name: 'x', dojoSoftwareHouseId: 'y' } })).status, 401);
    assert.equal((await api('GET', '/v1/locations', { token: 'other-token-abcdefghijk' })).status, 200, 'every configured token works');
  });

  it("refuses the venue API without a token, with an operator token, and with venue A's token on venue B", async () => {
    const path = (loc: string) => `/venue/v1/locations/${loc}/orders/o-1`;
    assert.equal((await api('PUT', path(locA), { token: null, body: sampleOrder('o-1') })).status, 401);
    assert.equal((await api('PUT', path(locA), { token: OPERATOR_TOKEN, body: sampleOrder('o-1') })).status, 401);
    assert.equal((await api('PUT', path(locA), { token: 'vt_wrong', body: sampleOrder('o-1') })).status, 401);
    assert.equal((await api('PUT', path(locB), { token: tokenA, body: sampleOrder('o-1') })).status, 403);
    assert.equal((await api('GET', `/venue/v1/locations/${locB}/feed`, { token: tokenA })).status, 403);
    assert.equal((await api('PUT', path(locA), { token: tokenA, body: sampleOrder('o-1') })).status, 200);
    assert.equal(await db.prisma.order.count({ where: { locationId: locB } }), 0, "nothing was written to B's data");
    // A revoked token stops working.
    const issued = (await api('POST', `/v1/locations/${locB}/venue-tokens`, { body: { name: 'temp' } })).body;
    assert.equal((await api('GET', `/venue/v1/locations/${locB}/feed`, { token: issued.token })).status, 200);
    assert.equal((await api('DELETE', `/v1/locations/${locB}/venue-tokens/${issued.id}`)).status, 200);
    assert.equal((await api('GET', `/venue/v1/locations/${locB}/feed`, { token: issued.token })).status, 401);
    void tokenB; // not a promise: marks tokenB as deliberately unused here
  });

  it('documents every route, and every documented route answers with valid auth', async () => {
    const docRes = await fetch(`${admin.url}/docs-json`);
    assert.equal(docRes.status, 200);
    const doc = (await docRes.json()) as { paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>> };
    const uiRes = await fetch(`${admin.url}/docs`);
    assert.equal(uiRes.status, 200);

    // Routes the app registered (Express router), in OpenAPI's {param} notation.
    const express = admin.app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } };
    const registered = new Set<string>();
    for (const layer of express.router.stack) {
      if (!layer.route) continue;
      for (const m of Object.keys(layer.route.methods)) {
        const p = layer.route.path.replace(/:(\w+)/g, '{$1}');
        if (p.startsWith('/docs')) continue;
        registered.add(`${m.toUpperCase()} ${p}`);
      }
    }
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(m)) documented.add(`${m.toUpperCase()} ${p}`);
    }
    assert.ok(registered.size > 30, `found ${registered.size} routes`);
    assert.deepEqual([...registered].filter((r) => !documented.has(r)), [], 'every registered route is documented');
    assert.deepEqual([...documented].filter((r) => !registered.has(r)), [], 'every documented route exists');

    // Call each documented route with the right credentials and real ids: none is unknown to the router.
    const secret = (await api('POST', `/v1/locations/${locA}/webhook-secrets`, { body: {} })).body.id;
    const spareTok = (await api('POST', `/v1/locations/${locA}/venue-tokens`, { body: { name: 'spare' } })).body.id;
    const ids: Record<string, string> = {
      id: locA, locationId: locA, secretId: secret, tokenId: spareTok, orderId: 'o-doc', partyId: 'p-doc', reservationId: 'r-doc', areaId: 'a-doc', tableId: 't-doc',
    };
    // Deletes last, and the location and software house deletes after everything else.
    const rank = (op: string) => (/^DELETE \/v1\/(locations|software-houses)\/\{id\}$/.test(op) ? 2 : op.startsWith('DELETE') ? 1 : 0);
    const order = [...documented].sort((a, b) => rank(a) - rank(b) || (a.includes('software-houses') ? 1 : 0) - (b.includes('software-houses') ? 1 : 0));
    for (const op of order) {
      const [method = '', path = ''] = op.split(' ');
      const url = path.replace(/\{(\w+)\}/g, (_m, n: string) => (path.startsWith('/v1/software-houses') && n === 'id' ? shId : ids[n] ?? 'x'));
      const sec = doc.paths[path]![method.toLowerCase()]!.security ?? [];
      const token = sec.some((s) => 'venue' in s) ? tokenA : sec.some((s) => 'operator' in s) ? OPERATOR_TOKEN : null;
      const r = await api(method, url, { token, body: ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined });
      assert.notEqual(r.status, 401, `${op} accepted its credentials`);
      assert.notEqual(r.status, 403, `${op} accepted its credentials`);
      assert.ok(!(r.status === 404 && /^Cannot /.test(String(r.body?.message))), `${op} is routed (got ${r.status} ${JSON.stringify(r.body)})`);
      assert.ok(r.status < 500, `${op} answered ${r.status} ${JSON.stringify(r.body)}`);
    }
  });
});
