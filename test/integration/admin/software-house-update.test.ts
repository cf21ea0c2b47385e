import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { TestDatabase } from '@app/testing';
import { waitFor } from '@app/testing';
import type { AdminStand } from './support/admin-stand';
import { newSoftwareHouse, startAdminStand } from './support/admin-stand';
import type { Api } from './support/helpers';
import { sandboxKey } from './support/helpers';

/**
 * PATCH /v1/software-houses/{id}: a new dojoSoftwareHouseId or resellerId and its locations' config versions (what
 * makes the gateways re-read them) commit together, and a software house deleted meanwhile is a 404.
 */
describe('software house update', () => {
  let db: TestDatabase;
  let api: Api;
  let stand: AdminStand;

  before(async () => {
    stand = await startAdminStand('shupdate');
    ({ db, api } = stand);
  });

  after(async () => {
    await stand?.close();
  });

  const onboard = async (softwareHouseId: string, name: string) => {
    const res = await api('POST', '/v1/locations', {
      body: { name, softwareHouseId, dojoAccountId: `acc_${Math.random().toString(36).slice(2)}`, apiKey: sandboxKey() },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; configVersion: number };
  };

  it('a new dojoSoftwareHouseId whose locations cannot be bumped is not kept: both or neither', async () => {
    const id = await newSoftwareHouse(api, 'Atomic Tills');
    const one = await onboard(id, 'Bumps fine');
    const two = await onboard(id, 'Refuses bumps');
    const before = (await api('GET', `/v1/software-houses/${id}`)).body as { dojoSoftwareHouseId: string };
    // The second location's bump fails (as a lost connection or a timeout between the two statements would).
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION refuse_bump() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'bump refused for the test'; END $$`);
    await db.prisma.$executeRawUnsafe(`
      CREATE TRIGGER refuse_bump BEFORE UPDATE ON locations FOR EACH ROW
      WHEN (NEW.id = '${two.id}'::uuid AND NEW.config_version <> OLD.config_version) EXECUTE FUNCTION refuse_bump()`);
    try {
      const failed = await api('PATCH', `/v1/software-houses/${id}`, { body: { dojoSoftwareHouseId: `${before.dojoSoftwareHouseId}-new` } });
      assert.equal(failed.status, 500, JSON.stringify(failed.body));
    } finally {
      await db.prisma.$executeRawUnsafe('DROP TRIGGER refuse_bump ON locations');
      await db.prisma.$executeRawUnsafe('DROP FUNCTION refuse_bump()');
    }
    const after = (await api('GET', `/v1/software-houses/${id}`)).body as { dojoSoftwareHouseId: string };
    assert.equal(after.dojoSoftwareHouseId, before.dojoSoftwareHouseId, 'the change is rolled back with the bumps');
    for (const l of [one, two]) assert.equal((await api('GET', `/v1/locations/${l.id}`)).body.configVersion, l.configVersion, 'no location bumped');

    const moved = await api('PATCH', `/v1/software-houses/${id}`, { body: { resellerId: 'reseller-2' } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    for (const l of [one, two]) assert.equal((await api('GET', `/v1/locations/${l.id}`)).body.configVersion, l.configVersion + 1, 'every location bumped');
  });

  it('a software house deleted while its update waits is 404, not 500', async () => {
    const id = await newSoftwareHouse(api, 'Gone Tills');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('DELETE FROM software_houses WHERE id = $1::uuid', [id]);
      const patch = api('PATCH', `/v1/software-houses/${id}`, { body: { name: 'Renamed' } });
      await waitFor(async () => {
        const r = await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        );
        return r.rows[0]!.n > 0 || undefined;
      }, 'the update waiting on the row the delete holds');
      await holder.query('COMMIT');
      const res = await patch;
      assert.equal(res.status, 404, JSON.stringify(res.body));
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });
});
