import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestDatabase } from '@app/testing';
import type { AdminStand } from './support/admin-stand';
import { startAdminStand } from './support/admin-stand';
import type { Api } from './support/helpers';
import { sandboxKey } from './support/helpers';

/** POST /v1/locations/bulk when a row fails for a reason that is not the row's (here Postgres raising an internal error). */
describe('bulk onboarding with an unexpected failure mid-list', () => {
  let db: TestDatabase;
  let api: Api;

  let stand: AdminStand;

  before(async () => {
    stand = await startAdminStand('bulkonboard');
    ({ db, api } = stand);
    // A real database failure for one row: not a constraint the use-case knows, so not a DomainError.
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'Boom' THEN RAISE EXCEPTION 'boom' USING ERRCODE = 'XX000'; END IF; RETURN NEW; END $$`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_boom BEFORE INSERT ON locations FOR EACH ROW EXECUTE FUNCTION test_boom()`);
  });

  after(async () => {
    await stand?.close();
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
