import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, parseStrictJson, uniquePrefix, waitFor } from '@app/testing';
import type { AppProcess } from '../../support/app-processes';
import { killApps, spawnApps } from '../../support/app-processes';
import { FakeDojo } from '../gateway/support/fake-dojo';

const TOKEN = 'operator-token-loglines-0001';

/**
 * Boots every app as its own process at LOG_LEVEL=trace, makes each do some
 * work, stops them, and reads every line they wrote with a strict JSON reader
 * that refuses a key written twice.
 */
describe('log lines: every app writes one JSON object with unique keys per line', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let apps: AppProcess[] = [];
  let locationId: string;

  before(async () => {
    db = await createTestDatabase('loglines');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    const sh = await fx.softwareHouse();
    locationId = (await fx.location({ softwareHouseId: sh.id })).id;
    // A real database failure, not one the use-cases know: an area or a location named Boom cannot be written.
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'Boom' THEN RAISE EXCEPTION 'boom' USING ERRCODE = 'XX000'; END IF; RETURN NEW; END $$`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_boom BEFORE INSERT ON areas FOR EACH ROW EXECUTE FUNCTION test_boom()`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_boom BEFORE INSERT ON locations FOR EACH ROW EXECUTE FUNCTION test_boom()`);
    const env = appEnv(db, {
      QUEUE_PREFIX: uniquePrefix('loglines'),
      LOG_LEVEL: 'trace',
      DOJO_WS_URL: fake.url,
      ADMIN_OPERATOR_TOKENS: TOKEN,
      GATEWAY_REPLICA_ID: 'gw-loglines',
      GATEWAY_PING_INTERVAL_MS: '200',
    });
    apps = await spawnApps(['gateway', 'worker', 'webhook', 'admin'], () => env);
  });

  after(async () => {
    await killApps(apps);
    await fake.close();
    await db.drop();
  });

  it('admin: an unexpected error is answered and logged under one request id, the log line naming the location', async () => {
    const admin = apps.find((a) => a.name === 'admin')!;
    const operator = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const issued = await fetch(`${admin.url}/v1/locations/${locationId}/venue-tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ name: 'POS' }) });
    assert.equal(issued.status, 201);
    const venueToken = ((await issued.json()) as { token: string }).token;
    const putArea = (name: string, requestId?: string) =>
      fetch(`${admin.url}/venue/v1/locations/${locationId}/areas/a-${name.toLowerCase()}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${venueToken}`, 'content-type': 'application/json', ...(requestId !== undefined ? { 'x-request-id': requestId } : {}) },
        body: JSON.stringify({ name }),
      });
    const adminLines = () =>
      admin.out
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);

    // The caller's id is kept, in the header, the body and the log line.
    const boom = await putArea('Boom', 'pos-req-0001');
    assert.equal(boom.status, 500);
    const body = (await boom.json()) as Record<string, unknown>;
    assert.deepEqual(body, { statusCode: 500, error: 'internal', message: 'internal error', requestId: 'pos-req-0001' });
    assert.equal(boom.headers.get('x-request-id'), 'pos-req-0001');
    const failed = await waitFor(() => adminLines().find((l) => l.msg === 'admin request failed' && l.requestId === 'pos-req-0001'), 'the failure is logged', 10_000);
    assert.equal(failed.locationId, locationId);
    assert.equal(failed.method, 'PUT');
    assert.equal(failed.route, '/venue/v1/locations/:locationId/areas/:areaId');
    assert.match(String(failed.err), /boom/);

    // No id, or one that is not sane (too long, or with a space): a new one, the same in header, body and log.
    for (const sent of [undefined, 'x'.repeat(129), 'two words']) {
      const r = await putArea('Boom', sent);
      const id = r.headers.get('x-request-id')!;
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `a generated id for ${sent}`);
      assert.equal(((await r.json()) as { requestId: string }).requestId, id);
      await waitFor(() => adminLines().find((l) => l.msg === 'admin request failed' && l.requestId === id && l.locationId === locationId), 'logged under the new id', 10_000);
    }

    // An answer that went well has its id too; an expected refusal carries it in its body.
    const ok = await putArea('Terrace', 'pos-req-0002');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-request-id'), 'pos-req-0002');
    const notFound = await fetch(`${admin.url}/v1/locations/00000000-0000-4000-8000-000000000000`, { headers: { ...operator, 'x-request-id': 'op-req-0001' } });
    assert.equal(notFound.status, 404);
    assert.equal(((await notFound.json()) as { requestId: string }).requestId, 'op-req-0001');

    // A line written by the handler's own logger (no request binding of its own) carries the request's fields too.
    const bulk = await fetch(`${admin.url}/v1/locations/bulk`, {
      method: 'POST',
      headers: { ...operator, 'x-request-id': 'op-req-bulk' },
      body: JSON.stringify({ locations: [{ name: 'Boom', softwareHouseId: (await db.prisma.location.findUniqueOrThrow({ where: { id: locationId } })).softwareHouseId, dojoAccountId: 'acc_boom_loglines', apiKey: 'sk_sandbox_loglines0001' }] }),
    });
    assert.equal(bulk.status, 200);
    const row = await waitFor(() => adminLines().find((l) => String(l.msg).startsWith('bulk onboarding: a row failed') && l.requestId === 'op-req-bulk'), 'the bulk row failure is logged', 10_000);
    assert.deepEqual([row.method, row.route], ['POST', '/v1/locations/bulk']);
  });

  it('gateway, worker, webhook and admin: every line parses strictly', async () => {
    const by = (n: string) => apps.find((a) => a.name === n)!;
    // Work that logs: the gateway links the location and pings it, the admin and webhook answer requests.
    await waitFor(() => fake.open().length === 1 && fake.open()[0]!.pings >= 1, 'the gateway links the location', 20_000);
    await fetch(`${by('admin').url}/v1/locations`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await fetch(`${by('admin').url}/v1/locations`);
    await fetch(`${by('webhook').url}/webhooks/dojo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"evt_1"}' });
    for (const a of apps) a.child.kill('SIGTERM');
    await Promise.race([Promise.all(apps.map((a) => a.exited)), new Promise((r) => setTimeout(r, 20_000))]);

    const problems: string[] = [];
    for (const a of apps) {
      const lines = a.out.join('').split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length >= 2, `${a.name} wrote log lines (${lines.length})`);
      for (const line of lines) {
        try {
          const obj = parseStrictJson(line);
          if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) problems.push(`${a.name}: not an object: ${line}`);
        } catch (err) {
          problems.push(`${a.name}: ${(err as Error).message}: ${line}`);
        }
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
    const gwLines = by('gateway').out.join('');
    assert.match(gwLines, /"replicaId":"gw-loglines"/, 'the gateway lines still carry the replica id');
  });
});
