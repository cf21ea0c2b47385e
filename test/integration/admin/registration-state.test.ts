import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { DojoStandIn } from './support/dojo-stand-in';
import type { Api } from './support/helpers';
import { apiClient, OPERATOR_TOKEN, sandboxKey } from './support/helpers';

/**
 * What the operator's changes do to a location's registration state. No worker runs here: a scheduled registration
 * stays queued, so the state the admin app wrote is the one read back.
 */
describe('registration state after operator changes', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  let api: Api;
  let softwareHouseId: string;

  before(async () => {
    db = await createTestDatabase('regstate');
    dojo = await new DojoStandIn().start();
    admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, DOJO_API_URL: dojo.url, QUEUE_PREFIX: uniquePrefix('regstate') }));
    api = apiClient(admin.url);
    const sh = await api('POST', '/v1/software-houses', { body: { name: 'Reg Ltd', dojoSoftwareHouseId: `sh-reg-${Date.now()}` } });
    assert.equal(sh.status, 201, JSON.stringify(sh.body));
    softwareHouseId = sh.body.id;
  });

  after(async () => {
    await admin?.close();
    await dojo?.stop();
    await db?.drop();
  });

  it('key rotation starts a failed (dead) registration again from nothing', async () => {
    const res = await api('POST', '/v1/locations', {
      body: { name: 'The Rotor', softwareHouseId, dojoAccountId: `acc_${Math.random().toString(36).slice(2)}`, apiKey: sandboxKey() },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.id as string;
    // As RegisterCapabilities leaves it when Dojo refused the old key: failed, a dead letter.
    await db.prisma.location.update({
      where: { id },
      data: { registrationState: 'failed', registrationAttempts: 6, registrationError: 'Dojo PUT /epos/integrations/ws answered 401', registrationDeadAt: new Date() },
    });
    assert.equal((await api('GET', `/v1/dead-letters?locationId=${id}`)).body.items.length, 1);

    const rot = await api('PUT', `/v1/locations/${id}/api-key`, { body: { apiKey: sandboxKey() } });
    assert.equal(rot.status, 200, JSON.stringify(rot.body));
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.deepEqual([row.registrationState, row.registrationAttempts, row.registrationError], ['pending', 0, null]);
    assert.equal((await api('GET', `/v1/dead-letters?locationId=${id}`)).body.items.length, 0, 'no longer a dead letter');
  });
});
