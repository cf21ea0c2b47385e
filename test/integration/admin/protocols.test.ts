import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { RunningApp } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import type { Api } from './support/helpers';
import { apiClient, OPERATOR_TOKEN, sandboxKey } from './support/helpers';

const TABLES_KEY = '7d4773f2-367f-406c-881a-b4cb854971f3';
const CONNECT_TOKEN = 'connect-token-SECRET-0042';

describe('operator API: a location per protocol (epos-data, dojo-tables, connect-pat)', () => {
  let db: TestDatabase;
  let admin: RunningApp;
  let api: Api;
  let softwareHouseId: string;
  let n = 0;
  const account = () => `acc_proto_${Date.now()}_${n++}`;

  before(async () => {
    db = await createTestDatabase('protocols');
    admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, QUEUE_PREFIX: uniquePrefix('proto') }));
    api = apiClient(admin.url);
    const sh = await api('POST', '/v1/software-houses', { body: { name: 'Tills', dojoSoftwareHouseId: `sh-${Date.now()}` } });
    softwareHouseId = sh.body.id;
  });

  after(async () => {
    await admin.close();
    await db.drop();
  });

  it('onboards each protocol with its credentials, encrypted at rest, registration only for epos-data', async () => {
    const tables = await api('POST', '/v1/locations', {
      body: {
        name: 'Old Tables Inn', softwareHouseId, dojoAccountId: 'abcdef0000000', protocol: 'dojo-tables', apiKey: TABLES_KEY, dojoTables: { enforceWaiterId: true },
        wsUrl: 'wss://tables.example.test/ws/v1/tables/epos?region=eu',
      },
    });
    assert.equal(tables.status, 201, JSON.stringify(tables.body));
    assert.equal(tables.body.wsUrl, 'wss://tables.example.test/ws/v1/tables/epos?region=eu');
    assert.equal(tables.body.protocol, 'dojo-tables');
    assert.deepEqual(tables.body.protocolSettings, { accountName: 'abcdef0000000', environment: 'production', enforceWaiterId: true });
    assert.equal(tables.body.registration.state, 'not_required');
    assert.equal(tables.body.apiKeyLast4, TABLES_KEY.slice(-4));

    const connect = await api('POST', '/v1/locations', {
      body: {
        name: 'Connect Bar', softwareHouseId, dojoAccountId: account(), protocol: 'connect-pat', apiKey: CONNECT_TOKEN,
        connectPat: { hostAddress: 'connectbar', installerId: 'inst-1', finalPosReceiptRequest: true, environment: 'test' },
      },
    });
    assert.equal(connect.status, 201, JSON.stringify(connect.body));
    assert.equal(connect.body.environment, 'sandbox');
    assert.equal(connect.body.registration.state, 'not_required');
    assert.ok(!JSON.stringify(connect.body).includes(CONNECT_TOKEN), 'the token is never shown');

    const epos = await api('POST', '/v1/locations', { body: { name: 'New Arms', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey() } });
    assert.equal(epos.status, 201);
    assert.equal(epos.body.protocol, 'epos-data');
    assert.equal(epos.body.registration.state, 'pending');

    for (const [id, secret] of [[tables.body.id, TABLES_KEY], [connect.body.id, CONNECT_TOKEN]] as const) {
      const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
      assert.ok(!Buffer.from(row.apiKeyCiphertext).toString('latin1').includes(secret), 'stored encrypted');
      assert.ok(!JSON.stringify(row.protocolSettings).includes(secret), 'the secret is not in the settings');
    }

    const listed = await api('GET', '/v1/locations?protocol=connect-pat');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.items.map((l: { id: string }) => l.id), [connect.body.id]);
  });

  it("shows every URL it answers redacted: a location's restUrl and wsUrl, a counter link's wsUrl (stored before URLs with credentials were refused)", async () => {
    const created = await api('POST', '/v1/locations', { body: { name: 'Proxy Arms', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey() } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const put = await api('PUT', `/v1/locations/${id}/counter-link`, { body: { hostAddress: 'proxyarms', installerId: 'inst-1', token: 'pac-token-0042', wsUrl: 'wss://pac.example.test/pac' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // Rows written by an older release, which stored such URLs as given.
    await db.prisma.location.update({
      where: { id },
      data: { restUrl: 'https://relay:REST-PASS-7@dojo.example.test/api?token=REST-TOKEN-7&region=eu', wsUrl: 'wss://u:WS-PASS-8@dojo.example.test/ws?api_key=WS-KEY-8' },
    });
    await db.prisma.counterLink.update({ where: { locationId: id }, data: { wsUrl: 'wss://pac:LINK-PASS-9@pac.example.test/pac?token=LINK-TOKEN-9' } });
    const shown = { restUrl: 'https://relay:***@dojo.example.test/api?token=***&region=eu', wsUrl: 'wss://u:***@dojo.example.test/ws?api_key=***' };
    const got = await api('GET', `/v1/locations/${id}`);
    assert.deepEqual([got.body.restUrl, got.body.wsUrl], [shown.restUrl, shown.wsUrl]);
    const listed = await api('GET', '/v1/locations?limit=500');
    assert.equal(listed.body.items.find((l: { id: string }) => l.id === id)?.restUrl, shown.restUrl);
    const renamed = await api('PATCH', `/v1/locations/${id}`, { body: { name: 'Proxy Arms II' } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.wsUrl, shown.wsUrl);
    const link = await api('GET', `/v1/locations/${id}/counter-link`);
    assert.equal(link.body.wsUrl, 'wss://pac:***@pac.example.test/pac?token=***');
    for (const body of [got.body, listed.body, renamed.body, link.body]) {
      assert.doesNotMatch(JSON.stringify(body), /REST-PASS|REST-TOKEN|WS-PASS|WS-KEY|LINK-PASS|LINK-TOKEN/);
    }
  });

  it('refuses URLs that carry credentials, and URLs without TLS for a production location, on every route that takes one', async () => {
    const fieldsOf = (r: { body: { fields?: { field: string; reason: string }[] } }) => (r.body.fields ?? []).map((f) => f.field);
    const reasonOf = (r: { body: { fields?: { field: string; reason: string }[] } }, field: string) => r.body.fields?.find((f) => f.field === field)?.reason ?? '';
    const onboard = (extra: Record<string, unknown>, apiKey = sandboxKey()) =>
      api('POST', '/v1/locations', { body: { name: 'Url Arms', softwareHouseId, dojoAccountId: account(), apiKey, ...extra } });
    const prodKey = () => `sk_prod_${Math.random().toString(36).slice(2, 12)}`;

    // Credentials: before the host, or in a query parameter whose name looks like a secret's; any environment.
    for (const [field, url] of [
      ['wsUrl', 'wss://proxy.example.test/epos?token=abc'],
      ['wsUrl', 'wss://proxy.example.test/epos?region=eu&X-Amz-Signature=abc'],
      ['wsUrl', 'wss://proxy.example.test/epos?accessToken=abc'],
      ['wsUrl', 'ws://127.0.0.1:9/epos?API_KEY=abc'],
      ['restUrl', 'https://user:pass@dojo.example.test'],
      ['restUrl', 'https://token-only@dojo.example.test'],
      ['restUrl', 'https://dojo.example.test/api?sig=abc'],
    ] as const) {
      const r = await onboard({ [field]: url });
      assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(fieldsOf(r), [field]);
      assert.match(reasonOf(r, field), /credentials.*apiKey/, url);
    }
    // Production: TLS only. Sandbox: ws: and http: too (the local sandbox).
    const plainProd = await onboard({ wsUrl: 'ws://127.0.0.1:9/epos', restUrl: 'http://127.0.0.1:9' }, prodKey());
    assert.equal(plainProd.status, 400, JSON.stringify(plainProd.body));
    assert.deepEqual(fieldsOf(plainProd), ['wsUrl', 'restUrl']);
    assert.match(reasonOf(plainProd, 'wsUrl'), /TLS \(wss:\).*production/);
    const tablesProd = await onboard({ protocol: 'dojo-tables', wsUrl: 'ws://127.0.0.1:9/ws/v1/tables/epos' }, TABLES_KEY);
    assert.deepEqual([tablesProd.status, fieldsOf(tablesProd)], [400, ['wsUrl']], 'a Tables API venue is production unless its environment is staging');
    const tlsProd = await onboard({ wsUrl: 'wss://eu.ws.dojo.tech/epos?region=eu', restUrl: 'https://api.dojo.tech' }, prodKey());
    assert.equal(tlsProd.status, 201, JSON.stringify(tlsProd.body));
    const plainSandbox = await onboard({ wsUrl: 'ws://127.0.0.1:9/epos', restUrl: 'http://127.0.0.1:9' });
    assert.equal(plainSandbox.status, 201, JSON.stringify(plainSandbox.body));
    const sandboxId = plainSandbox.body.id as string;
    assert.equal(await db.prisma.location.count({ where: { name: 'Url Arms' } }), 2, 'nothing refused was stored');

    // Bulk onboarding: each row by the same rules.
    const bulk = await api('POST', '/v1/locations/bulk', {
      body: {
        locations: [
          { name: 'Bulk Url 1', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey(), wsUrl: 'wss://proxy.example.test/epos?secret=abc' },
          { name: 'Bulk Url 2', softwareHouseId, dojoAccountId: account(), apiKey: prodKey(), restUrl: 'http://127.0.0.1:9' },
          { name: 'Bulk Url 3', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey(), wsUrl: 'ws://127.0.0.1:9/epos' },
        ],
      },
    });
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    assert.deepEqual(bulk.body.results.map((r: { ok: boolean }) => r.ok), [false, false, true]);
    assert.deepEqual(bulk.body.results[0].error.fields.map((f: { field: string }) => f.field), ['wsUrl']);
    assert.deepEqual(bulk.body.results[1].error.fields.map((f: { field: string }) => f.field), ['restUrl']);

    // A change of a location's URLs.
    const patched = await api('PATCH', `/v1/locations/${sandboxId}`, { body: { wsUrl: 'wss://proxy.example.test/epos?password=abc' } });
    assert.deepEqual([patched.status, fieldsOf(patched)], [400, ['wsUrl']]);
    assert.equal((await db.prisma.location.findUniqueOrThrow({ where: { id: sandboxId } })).wsUrl, 'ws://127.0.0.1:9/epos');

    // A production key for a location whose URLs are not TLS: refused until they are.
    const toProd = await api('PUT', `/v1/locations/${sandboxId}/api-key`, { body: { apiKey: prodKey() } });
    assert.equal(toProd.status, 400, JSON.stringify(toProd.body));
    assert.deepEqual(fieldsOf(toProd), ['wsUrl', 'restUrl']);
    assert.equal((await api('GET', `/v1/locations/${sandboxId}`)).body.environment, 'sandbox');
    // So is a protocol switch to production given plain URLs (a Tables API venue is production by default), and
    // credentials in them; a restUrl for a protocol without Dojo's REST API is refused too.
    const switched = await api('PUT', `/v1/locations/${sandboxId}/protocol`, { body: { protocol: 'dojo-tables', apiKey: TABLES_KEY, wsUrl: 'ws://127.0.0.1:9/ws/v1/tables/epos' } });
    assert.deepEqual([switched.status, fieldsOf(switched)], [400, ['wsUrl']], JSON.stringify(switched.body));
    const switchedCreds = await api('PUT', `/v1/locations/${sandboxId}/protocol`, { body: { protocol: 'dojo-tables', apiKey: TABLES_KEY, wsUrl: 'wss://proxy.example.test/ws?token=abc' } });
    assert.deepEqual([switchedCreds.status, fieldsOf(switchedCreds)], [400, ['wsUrl']], JSON.stringify(switchedCreds.body));
    const switchedRest = await api('PUT', `/v1/locations/${sandboxId}/protocol`, { body: { protocol: 'dojo-tables', apiKey: TABLES_KEY, restUrl: 'https://api.dojo.tech' } });
    assert.deepEqual([switchedRest.status, fieldsOf(switchedRest)], [400, ['restUrl']], JSON.stringify(switchedRest.body));
    assert.equal((await api('GET', `/v1/locations/${sandboxId}`)).body.protocol, 'epos-data');
    // And a settings change that makes a location production while it keeps a plain URL.
    const staging = await onboard({ protocol: 'dojo-tables', dojoTables: { environment: 'staging' }, wsUrl: 'ws://127.0.0.1:9/ws/v1/tables/epos' }, TABLES_KEY);
    assert.equal(staging.status, 201, JSON.stringify(staging.body));
    const toProduction = await api('PUT', `/v1/locations/${staging.body.id}/protocol`, { body: { protocol: 'dojo-tables', dojoTables: { environment: 'production' } } });
    assert.deepEqual([toProduction.status, fieldsOf(toProduction)], [400, ['wsUrl']], JSON.stringify(toProduction.body));
    // A production location's URLs changed to plain ones: refused; TLS ones are taken.
    const tlsId = tlsProd.body.id as string;
    const plainPatch = await api('PATCH', `/v1/locations/${tlsId}`, { body: { wsUrl: 'ws://127.0.0.1:9/epos' } });
    assert.deepEqual([plainPatch.status, fieldsOf(plainPatch)], [400, ['wsUrl']], JSON.stringify(plainPatch.body));
    const tlsPatch = await api('PATCH', `/v1/locations/${tlsId}`, { body: { restUrl: 'https://eu.api.dojo.tech' } });
    assert.equal(tlsPatch.status, 200, JSON.stringify(tlsPatch.body));

    // A counter link: its own environment (production unless test) decides.
    const link = (body: Record<string, unknown>) => api('PUT', `/v1/locations/${sandboxId}/counter-link`, { body: { hostAddress: 'urlarms', installerId: 'inst-1', token: 'pac-token-0042', ...body } });
    const linkCreds = await link({ environment: 'test', wsUrl: 'ws://127.0.0.1:9/pac?auth=abc' });
    assert.deepEqual([linkCreds.status, fieldsOf(linkCreds)], [400, ['wsUrl']]);
    const linkPlainProd = await link({ wsUrl: 'ws://127.0.0.1:9/pac' });
    assert.deepEqual([linkPlainProd.status, fieldsOf(linkPlainProd)], [400, ['wsUrl']]);
    const linkTest = await link({ environment: 'test', wsUrl: 'ws://127.0.0.1:9/pac' });
    assert.equal(linkTest.status, 200, JSON.stringify(linkTest.body));
    const keptPlain = await link({ environment: 'production' });
    assert.deepEqual([keptPlain.status, fieldsOf(keptPlain)], [400, ['wsUrl']], 'moved to production, the link may not keep its ws: URL');
    const movedWithUrl = await link({ environment: 'production', wsUrl: 'wss://pac.example.test/pac' });
    assert.equal(movedWithUrl.status, 200, JSON.stringify(movedWithUrl.body));
  });

  it('refuses bad credentials with one field error each, in single and bulk onboarding', async () => {
    const bad = await api('POST', '/v1/locations', {
      body: { name: 'X', softwareHouseId, dojoAccountId: account(), protocol: 'connect-pat', apiKey: 'has space', connectPat: { hostAddress: 'a.b', installerId: 'i' } },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.fields.map((f: { field: string }) => f.field).sort(), ['apiKey', 'connectPat.hostAddress']);
    const wrongObject = await api('POST', '/v1/locations', {
      body: { name: 'X', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey(), dojoTables: { accountName: 'a' } },
    });
    assert.equal(wrongObject.status, 400);
    assert.deepEqual(wrongObject.body.fields.map((f: { field: string }) => f.field), ['dojoTables']);

    const bulk = await api('POST', '/v1/locations/bulk', {
      body: {
        locations: [
          { name: 'B1', softwareHouseId, dojoAccountId: account(), protocol: 'dojo-tables', apiKey: TABLES_KEY },
          { name: 'B2', softwareHouseId, dojoAccountId: account(), protocol: 'connect-pat', apiKey: CONNECT_TOKEN },
          { name: 'B3', softwareHouseId, dojoAccountId: account(), protocol: 'tables', apiKey: TABLES_KEY },
        ],
      },
    });
    assert.equal(bulk.status, 200);
    assert.equal(bulk.body.created, 1);
    assert.equal(bulk.body.results[0].ok, true);
    assert.deepEqual(bulk.body.results[1].error.fields.map((f: { field: string }) => f.field), ['connectPat']);
    assert.deepEqual(bulk.body.results[2].error.fields.map((f: { field: string }) => f.field), ['protocol']);
  });

  it('rotates the secret by the rules of the protocol, disables, enables and deletes every protocol', async () => {
    const c = await api('POST', '/v1/locations', {
      body: { name: 'Rot', softwareHouseId, dojoAccountId: account(), protocol: 'connect-pat', apiKey: CONNECT_TOKEN, connectPat: { hostAddress: 'rot', installerId: 'i1' } },
    });
    const id = c.body.id as string;
    const refused = await api('PUT', `/v1/locations/${id}/api-key`, { body: { apiKey: 'sk_sandbox_abcdef' } });
    assert.equal(refused.status, 200, 'an sk_ key is URL-safe, so Connect accepts it as a token');
    const wrong = await api('PUT', `/v1/locations/${id}/api-key`, { body: { apiKey: 'a b' } });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body.fields.map((f: { field: string }) => f.field), ['apiKey']);
    const rotated = await api('PUT', `/v1/locations/${id}/api-key`, { body: { apiKey: 'new-token-0000000001' } });
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.apiKeyLast4, '0001');
    assert.equal(rotated.body.registration.state, 'not_required');
    assert.equal((await api('POST', `/v1/locations/${id}/disable`)).body.enabled, false);
    assert.equal((await api('POST', `/v1/locations/${id}/enable`)).body.enabled, true);
    const resync = await api('POST', `/v1/locations/${id}/registration/resync`);
    assert.equal(resync.status, 400, 'no capability registration outside epos-data');
    const status = await api('GET', `/v1/locations/${id}`);
    assert.equal(status.body.protocol, 'connect-pat');
    assert.equal((await api('DELETE', `/v1/locations/${id}`)).status, 204);
  });

  it('a key rotation racing a protocol switch checks the key by the protocol it is stored under', async () => {
    const c = await api('POST', '/v1/locations', { body: { name: 'Racer', softwareHouseId, dojoAccountId: account(), protocol: 'dojo-tables', apiKey: TABLES_KEY } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const id = c.body.id as string;
    // The switch to epos-data holds the location's row while the rotation (a Tables API key) comes in.
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM locations WHERE id = $1 FOR UPDATE', [id]);
      const rotation = api('PUT', `/v1/locations/${id}/api-key`, { body: { apiKey: 'another-tables-key-0042' } });
      await waitFor(async () => {
        const r = await holder.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return r.rows[0].n > 0 || undefined;
      }, 'the rotation waits for the location row');
      await holder.query(`UPDATE locations SET protocol = 'epos-data', protocol_settings = '{}'::jsonb WHERE id = $1`, [id]);
      await holder.query('COMMIT');
      const rotated = await rotation;
      assert.equal(rotated.status, 400, `a Tables API key is not a Dojo API key: ${JSON.stringify(rotated.body)}`);
      assert.deepEqual(rotated.body.fields.map((f: { field: string }) => f.field), ['apiKey']);
    } finally {
      await holder.end();
    }
    const now = await api('GET', `/v1/locations/${id}`);
    assert.equal(now.body.protocol, 'epos-data');
    assert.equal(now.body.apiKeyLast4, c.body.apiKeyLast4, 'the stored key is the one the switch left');
  });

  it("a switch dials the new protocol's own endpoint unless given one: the old protocol's URLs are cleared, never sent the new secret", async () => {
    const e = await api('POST', '/v1/locations', {
      body: { name: 'Url Switcher', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey(), wsUrl: 'ws://127.0.0.1:9/epos', restUrl: 'http://127.0.0.1:9' },
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
    const id = e.body.id as string;
    const stored = async () => {
      const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
      return { wsUrl: row.wsUrl, restUrl: row.restUrl };
    };
    // Settings of the same protocol: the URLs stay.
    const same = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'epos-data', apiKey: sandboxKey() } });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.deepEqual(await stored(), { wsUrl: 'ws://127.0.0.1:9/epos', restUrl: 'http://127.0.0.1:9' });

    // To Connect PAT without a URL: Dojo's EPOS socket would get the Connect token as ?token=; the profile's default is dialled.
    const toPat = await api('PUT', `/v1/locations/${id}/protocol`, {
      body: { protocol: 'connect-pat', apiKey: CONNECT_TOKEN, connectPat: { hostAddress: 'urlswitch', installerId: 'inst-1', environment: 'test' } },
    });
    assert.equal(toPat.status, 200, JSON.stringify(toPat.body));
    assert.deepEqual([toPat.body.wsUrl, toPat.body.restUrl], [null, null]);
    assert.deepEqual(await stored(), { wsUrl: null, restUrl: null });

    // Given one, the switch takes it (the sandbox's, say); the same protocol keeps it, null clears it.
    const toTables = await api('PUT', `/v1/locations/${id}/protocol`, {
      body: { protocol: 'dojo-tables', apiKey: TABLES_KEY, dojoTables: { environment: 'staging' }, wsUrl: 'ws://127.0.0.1:9/ws/v1/tables/epos' },
    });
    assert.equal(toTables.status, 200, JSON.stringify(toTables.body));
    assert.deepEqual(await stored(), { wsUrl: 'ws://127.0.0.1:9/ws/v1/tables/epos', restUrl: null });
    const flag = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'dojo-tables', dojoTables: { enforceWaiterId: true } } });
    assert.equal(flag.status, 200, JSON.stringify(flag.body));
    assert.equal((await stored()).wsUrl, 'ws://127.0.0.1:9/ws/v1/tables/epos');
    const cleared = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'dojo-tables', wsUrl: null } });
    assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
    assert.equal((await stored()).wsUrl, null);

    // Back to epos-data with its own URLs: taken, and registered again from nothing.
    const back = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'epos-data', apiKey: sandboxKey(), wsUrl: 'ws://127.0.0.1:9/epos', restUrl: 'http://127.0.0.1:9' } });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.deepEqual(await stored(), { wsUrl: 'ws://127.0.0.1:9/epos', restUrl: 'http://127.0.0.1:9' });
    assert.equal(back.body.registration.state, 'pending');
  });

  it('refuses a switch to connect-pac while a counter link is beside the protocol; the link is deleted first', async () => {
    const e = await api('POST', '/v1/locations', { body: { name: 'Counter Beside', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey() } });
    assert.equal(e.status, 201, JSON.stringify(e.body));
    const id = e.body.id as string;
    const link = await api('PUT', `/v1/locations/${id}/counter-link`, { body: { hostAddress: 'beside', installerId: 'inst-1', token: 'pac-token-0042', environment: 'test' } });
    assert.equal(link.status, 200, JSON.stringify(link.body));
    const toPac = { protocol: 'connect-pac', apiKey: CONNECT_TOKEN, connectPac: { hostAddress: 'beside', installerId: 'inst-1', environment: 'test' } };
    const refused = await api('PUT', `/v1/locations/${id}/protocol`, { body: toPac });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'counter_link_exists');
    assert.match(refused.body.message, /DELETE \/v1\/locations\/\{id\}\/counter-link/);
    assert.equal((await api('GET', `/v1/locations/${id}`)).body.protocol, 'epos-data', 'nothing changed');
    assert.equal((await api('GET', `/v1/locations/${id}/counter-link`)).body.via, 'link');

    assert.equal((await api('DELETE', `/v1/locations/${id}/counter-link`)).status, 204);
    const switched = await api('PUT', `/v1/locations/${id}/protocol`, { body: toPac });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    assert.equal(await db.prisma.counterLink.count({ where: { locationId: id } }), 0);
    assert.equal((await api('GET', `/v1/locations/${id}/counter-link`)).body.via, 'protocol');
    assert.equal((await api('DELETE', `/v1/locations/${id}/counter-link`)).body.error, 'counter_is_protocol');

    // A link left beside a location switched to connect-pac before such switches were refused: it can be deleted.
    await db.prisma.counterLink.create({
      data: { locationId: id, settings: { hostAddress: 'old', environment: 'test', installerId: 'i', signatureDefault: 'decline', signatureWaitMs: 30_000 }, tokenCiphertext: new Uint8Array([1, 2, 3]), tokenLast4: '0042', wsUrl: null, enabled: true },
    });
    const before = (await api('GET', `/v1/locations/${id}`)).body.configVersion as number;
    assert.equal((await api('DELETE', `/v1/locations/${id}/counter-link`)).status, 204);
    assert.equal(await db.prisma.counterLink.count({ where: { locationId: id } }), 0);
    assert.equal((await api('GET', `/v1/locations/${id}`)).body.configVersion, before + 1);
    const again = await api('DELETE', `/v1/locations/${id}/counter-link`);
    assert.deepEqual([again.status, again.body.error], [409, 'counter_is_protocol']);
  });

  it("changes only the settings named when the protocol stays: the others keep their stored values, not the defaults", async () => {
    const t = await api('POST', '/v1/locations', {
      body: { name: 'Staging Tables', softwareHouseId, dojoAccountId: account(), protocol: 'dojo-tables', apiKey: TABLES_KEY, dojoTables: { accountName: 'acct7', environment: 'staging' } },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    assert.equal(t.body.environment, 'sandbox');
    const flag = await api('PUT', `/v1/locations/${t.body.id}/protocol`, { body: { protocol: 'dojo-tables', dojoTables: { enforceWaiterId: true } } });
    assert.equal(flag.status, 200, JSON.stringify(flag.body));
    assert.deepEqual(flag.body.protocolSettings, { accountName: 'acct7', environment: 'staging', enforceWaiterId: true }, 'still staging, its account name kept');
    assert.equal(flag.body.environment, 'sandbox', 'a staging key is not re-dialled to production');
    const moved = await api('PUT', `/v1/locations/${t.body.id}/protocol`, { body: { protocol: 'dojo-tables', dojoTables: { environment: 'production' } } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(moved.body.protocolSettings, { accountName: 'acct7', environment: 'production', enforceWaiterId: true });

    const pac = await api('POST', '/v1/locations', {
      body: {
        name: 'Counter Settings', softwareHouseId, dojoAccountId: account(), protocol: 'connect-pac', apiKey: CONNECT_TOKEN,
        connectPac: { hostAddress: 'counterset', installerId: 'inst-1', environment: 'test', signatureDefault: 'accept' },
      },
    });
    assert.equal(pac.status, 201, JSON.stringify(pac.body));
    const wait = await api('PUT', `/v1/locations/${pac.body.id}/protocol`, { body: { protocol: 'connect-pac', connectPac: { signatureWaitMs: 5_000 } } });
    assert.equal(wait.status, 200, JSON.stringify(wait.body));
    assert.deepEqual(wait.body.protocolSettings, { hostAddress: 'counterset', environment: 'test', installerId: 'inst-1', signatureDefault: 'accept', signatureWaitMs: 5_000 });
    assert.equal(wait.body.environment, 'sandbox');

    const pat = await api('POST', '/v1/locations', {
      body: { name: 'Pat Settings', softwareHouseId, dojoAccountId: account(), protocol: 'connect-pat', apiKey: CONNECT_TOKEN, connectPat: { hostAddress: 'patset', installerId: 'inst-2', environment: 'test' } },
    });
    assert.equal(pat.status, 201, JSON.stringify(pat.body));
    const receipt = await api('PUT', `/v1/locations/${pat.body.id}/protocol`, { body: { protocol: 'connect-pat', connectPat: { finalPosReceiptRequest: true } } });
    assert.equal(receipt.status, 200, JSON.stringify(receipt.body));
    assert.deepEqual(receipt.body.protocolSettings, { hostAddress: 'patset', environment: 'test', installerId: 'inst-2', finalPosReceiptRequest: true });
    // A new token alone keeps every setting, as a key rotation does.
    const token = await api('PUT', `/v1/locations/${pat.body.id}/protocol`, { body: { protocol: 'connect-pat', apiKey: 'connect-token-NEW-0077' } });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.deepEqual(token.body.protocolSettings, receipt.body.protocolSettings);
    assert.equal(token.body.apiKeyLast4, '0077');
    // Settings refused by the rules still are, field by field.
    const bad = await api('PUT', `/v1/locations/${pat.body.id}/protocol`, { body: { protocol: 'connect-pat', connectPat: { hostAddress: 'not.one.label' } } });
    assert.deepEqual([bad.status, bad.body.fields?.map((f: { field: string }) => f.field)], [400, ['connectPat.hostAddress']], JSON.stringify(bad.body));
  });

  it('switches dojo-tables -> epos-data -> dojo-tables keeping the venue data, re-dialled via config_version', async () => {
    const t = await api('POST', '/v1/locations', {
      body: { name: 'Switcher', softwareHouseId, dojoAccountId: account(), protocol: 'dojo-tables', apiKey: TABLES_KEY },
    });
    const id = t.body.id as string;
    const fx = fixtures(db.prisma);
    await fx.table(id, { id: 'T1' });
    await fx.order(id, { id: 'ORD-1', total: 1000, tableId: 'T1' });

    const noKey = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'epos-data' } });
    assert.equal(noKey.status, 400);
    assert.deepEqual(noKey.body.fields.map((f: { field: string }) => f.field), ['apiKey']);
    const toEpos = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'epos-data', apiKey: sandboxKey() } });
    assert.equal(toEpos.status, 200, JSON.stringify(toEpos.body));
    assert.equal(toEpos.body.protocol, 'epos-data');
    assert.deepEqual(toEpos.body.protocolSettings, {});
    assert.equal(toEpos.body.registration.state, 'pending');
    assert.ok(toEpos.body.configVersion > t.body.configVersion);

    const back = await api('PUT', `/v1/locations/${id}/protocol`, {
      body: { protocol: 'dojo-tables', apiKey: TABLES_KEY, dojoTables: { environment: 'staging', accountName: 'acct9' } },
    });
    assert.equal(back.status, 200);
    assert.equal(back.body.registration.state, 'not_required');
    assert.deepEqual(back.body.protocolSettings, { accountName: 'acct9', environment: 'staging', enforceWaiterId: false });
    // Settings of the same protocol change without resending the key.
    const flag = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'dojo-tables', dojoTables: { accountName: 'acct9', enforceWaiterId: true } } });
    assert.equal(flag.status, 200, JSON.stringify(flag.body));
    assert.equal(flag.body.protocolSettings.enforceWaiterId, true);
    assert.equal(flag.body.apiKeyLast4, TABLES_KEY.slice(-4));

    assert.equal(await db.prisma.order.count({ where: { locationId: id } }), 1, 'the venue data stays');
    assert.equal(await db.prisma.diningTable.count({ where: { locationId: id } }), 1);
  });
});
