import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { DojoStandIn } from './support/dojo-stand-in';
import type { Api } from './support/helpers';
import { apiClient, OPERATOR_TOKEN, sandboxKey } from './support/helpers';

/** POST /v1/locations/bulk when a row fails for a reason that is not the row's (here Postgres raising an internal error). */
describe('bulk onboarding with an unexpected failure mid-list', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  let api: Api;

  before(async () => {
    db = await createTestDatabase('bulkonboard');
    dojo = await new DojoStandIn().start();
    admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, DOJO_API_URL: dojo.url, QUEUE_PREFIX: uniquePrefix('bulk') }));
    api = apiClient(admin.url);
    // A real database failure for one row: not a constraint the use-case knows, so not a DomainError.
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'Boom' THEN RAISE EXCEPTION 'boom' USING ERRCODE = 'XX000'; END IF; RETURN NEW; END $$`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_boom BEFORE INSERT ON locations FOR EACH ROW EXECUTE FUNCTION test_boom()`);
  });

  after(async () => {
    await admin?.close();
    await dojo?.stop();
    await db?.drop();
  });

  it("reports the row as internal and still tries the rest, answering every row's outcome", async () => {
    const sh = await api('POST', '/v1/software-houses', { body: { name: 'Bulk Ltd', dojoSoftwareHouseId: `sh-bulk-${Date.now()}` } });
    assert.equal(sh.status, 201, JSON.stringify(sh.body));
    const row = (name: string) => ({ name, softwareHouseId: sh.body.id, dojoAccountId: `acc_${Math.random().toString(36).slice(2)}`, apiKey: sandboxKey() });
    const rows = [row('One'), row('Boom'), row('Three')];
    const res = await api('POST', '/v1/locations/bulk', { body: { locations: rows } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.created, res.body.failed], [2, 1]);
    assert.deepEqual(res.body.results.map((r: { ok: boolean }) => r.ok), [true, false, true]);
    assert.equal(res.body.results[1].error.kind, 'internal');
    assert.equal(res.body.results[1].dojoAccountId, rows[1]!.dojoAccountId);
    assert.doesNotMatch(JSON.stringify(res.body), /boom/, 'the database error itself is logged, not answered');
    const stored = await db.prisma.location.findMany({ where: { dojoAccountId: { in: rows.map((r) => r.dojoAccountId) } }, select: { name: true } });
    assert.deepEqual(stored.map((s) => s.name).sort(), ['One', 'Three']);
  });
});
