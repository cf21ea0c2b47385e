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
        wsUrl: 'wss://tables.example.test/ws/v1/tables/epos?token=URL-SECRET-1',
      },
    });
    assert.equal(tables.status, 201, JSON.stringify(tables.body));
    assert.equal(tables.body.wsUrl, 'wss://tables.example.test/ws/v1/tables/epos?token=***', 'a URL is shown redacted');
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

  it("shows every URL it answers redacted: a location's restUrl and wsUrl, a counter link's wsUrl", async () => {
    const restUrl = 'https://relay:REST-PASS-7@dojo.example.test/api?token=REST-TOKEN-7&region=eu';
    const shown = 'https://relay:***@dojo.example.test/api?token=***&region=eu';
    const created = await api('POST', '/v1/locations', { body: { name: 'Proxy Arms', softwareHouseId, dojoAccountId: account(), apiKey: sandboxKey(), restUrl } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    assert.equal(created.body.restUrl, shown);
    assert.equal((await api('GET', `/v1/locations/${id}`)).body.restUrl, shown);
    const listed = await api('GET', '/v1/locations?limit=500');
    assert.equal(listed.body.items.find((l: { id: string }) => l.id === id)?.restUrl, shown);
    const patched = await api('PATCH', `/v1/locations/${id}`, { body: { restUrl: 'https://dojo.example.test/api?api_key=REST-KEY-8', wsUrl: 'wss://u:WS-PASS-8@dojo.example.test/ws' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.restUrl, 'https://dojo.example.test/api?api_key=***');
    assert.equal(patched.body.wsUrl, 'wss://u:***@dojo.example.test/ws');
    assert.equal((await db.prisma.location.findUniqueOrThrow({ where: { id } })).restUrl, 'https://dojo.example.test/api?api_key=REST-KEY-8', 'stored as given');

    const link = { hostAddress: 'proxyarms', installerId: 'inst-1', token: 'pac-token-0042', wsUrl: 'wss://pac:LINK-PASS-9@pac.example.test/pac?token=LINK-TOKEN-9' };
    const put = await api('PUT', `/v1/locations/${id}/counter-link`, { body: link });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.wsUrl, 'wss://pac:***@pac.example.test/pac?token=***');
    const got = await api('GET', `/v1/locations/${id}/counter-link`);
    assert.equal(got.body.wsUrl, 'wss://pac:***@pac.example.test/pac?token=***');
    for (const body of [created.body, patched.body, put.body, got.body]) {
      assert.doesNotMatch(JSON.stringify(body), /REST-PASS|REST-TOKEN|REST-KEY|WS-PASS|LINK-PASS|LINK-TOKEN/);
    }
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
