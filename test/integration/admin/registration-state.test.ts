import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ALL_CAPABILITIES } from '@app/contracts';
import { SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import { LocationsRepository, RegisterCapabilities } from '@app/domain/admin';
import type { TestDatabase } from '@app/testing';
import { sleep, TEST_ENCRYPTION_KEY, waitFor } from '@app/testing';
import type { DojoStandIn } from './support/dojo-stand-in';
import type { AdminStand } from './support/admin-stand';
import { newSoftwareHouse, startAdminStand } from './support/admin-stand';
import type { Api } from './support/helpers';
import { sandboxKey } from './support/helpers';

/**
 * What the operator's changes do to a location's registration state. No worker runs here: a scheduled registration
 * stays queued, so the state the admin app wrote is the one read back.
 */
describe('registration state after operator changes', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let api: Api;
  let softwareHouseId: string;

  let stand: AdminStand;

  before(async () => {
    stand = await startAdminStand('regstate');
    ({ db, dojo, api } = stand);
    softwareHouseId = await newSoftwareHouse(api, 'Reg Ltd');
  });

  after(async () => {
    await stand?.close();
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

  /** As RegisterCapabilities leaves a location whose registration died, or went through. */
  const markFailed = (id: string) =>
    db.prisma.location.update({
      where: { id },
      data: { registrationState: 'failed', registrationAttempts: 8, registrationError: 'Dojo PUT /epos/integrations/ws answered 401', registrationDeadAt: new Date() },
    });
  const markRegistered = (id: string) => db.prisma.location.update({ where: { id }, data: { registrationState: 'registered', registrationAttempts: 1, registeredAt: new Date() } });
  const registration = async (id: string) => {
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    return [row.registrationState, row.registrationAttempts, row.registrationError];
  };

  it('a new key through PUT /protocol on an epos-data location starts the registration again, as a key rotation does', async () => {
    const res = await api('POST', '/v1/locations', {
      body: { name: 'The Switch', softwareHouseId, dojoAccountId: `acc_${Math.random().toString(36).slice(2)}`, apiKey: sandboxKey() },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.id as string;
    await markFailed(id);
    const put = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'epos-data', apiKey: sandboxKey() } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(await registration(id), ['pending', 0, null], 'no longer failed, nor a dead letter');
    assert.equal((await api('GET', `/v1/dead-letters?locationId=${id}`)).body.items.length, 0);

    await markRegistered(id);
    assert.equal((await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'epos-data', apiKey: sandboxKey() } })).status, 200);
    assert.deepEqual(await registration(id), ['pending', 0, null], "registered with the old key's account: registered again with the new key");

    await markRegistered(id);
    assert.equal((await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'epos-data' } })).status, 200);
    assert.equal((await registration(id))[0], 'registered', 'the same key: nothing to register again');
  });

  it('a new restUrl on an epos-data location registers it again with that Dojo; on another protocol it changes nothing', async () => {
    const res = await api('POST', '/v1/locations', {
      body: { name: 'The Mover', softwareHouseId, dojoAccountId: `acc_${Math.random().toString(36).slice(2)}`, apiKey: sandboxKey() },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.id as string;
    await markRegistered(id);
    assert.equal((await api('PATCH', `/v1/locations/${id}`, { body: { name: 'The Mover (renamed)' } })).status, 200);
    assert.equal((await registration(id))[0], 'registered', 'a change Dojo does not see leaves it alone');
    const moved = await api('PATCH', `/v1/locations/${id}`, { body: { restUrl: 'https://api.other-dojo.example' } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(await registration(id), ['pending', 0, null]);

    await markFailed(id);
    assert.equal((await api('PATCH', `/v1/locations/${id}`, { body: { restUrl: null } })).status, 200);
    assert.deepEqual(await registration(id), ['pending', 0, null], 'a failed one too');
    assert.equal((await api('GET', `/v1/dead-letters?locationId=${id}`)).body.items.length, 0);

    const tables = await api('PUT', `/v1/locations/${id}/protocol`, { body: { protocol: 'dojo-tables', apiKey: 'tables-key-0001' } });
    assert.equal(tables.status, 200, JSON.stringify(tables.body));
    assert.equal((await api('PATCH', `/v1/locations/${id}`, { body: { restUrl: 'https://api.third.example' } })).status, 200);
    assert.equal((await registration(id))[0], 'not_required');
  });

  it("a success with the old restUrl that lands after it changed is not recorded: the new URL's Dojo has not registered anything", async () => {
    const { id, key } = await onboard(ALL_CAPABILITIES.slice(0, 2));
    const held = await heldAttempt(key, id, 200);
    assert.equal((await api('PATCH', `/v1/locations/${id}`, { body: { restUrl: 'http://127.0.0.1:9' } })).status, 200);
    assert.equal((await held.finish()).outcome, 'retry');
    assert.deepEqual((await registration(id)).slice(0, 2), ['pending', 0]);
  });

  /**
   * A registration attempt held at Dojo until released, then answered `status` (a refusal, 400, by default): its
   * outcome lands after whatever the test did meanwhile. A job's last attempt unless `finalAttempt` is false.
   */
  async function heldAttempt(key: string, id: string, status = 400, finalAttempt = true) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const isPut = (r: { method: string; path: string; headers: Record<string, unknown> }) =>
      r.method === 'PUT' && r.path === '/epos/integrations/ws' && r.headers.authorization === `Basic ${key}`;
    const stop = dojo.respond(async (r) => (isPut(r) ? (await gate, { status, body: status < 300 ? { capabilities: [] } : { title: 'refused' } }) : undefined));
    const register = new RegisterCapabilities({
      locations: new LocationsRepository(db.prisma),
      secretBox: new SecretBox(TEST_ENCRYPTION_KEY),
      dojo: new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 1 }),
    });
    const before = dojo.find(isPut).length;
    const outcome = register.execute(id, { finalAttempt });
    await waitFor(() => dojo.find(isPut).length > before || undefined, 'the attempt reached Dojo');
    return { finish: async () => (release(), await outcome.finally(stop)) };
  }

  const onboard = async (capabilities: string[]) => {
    const key = sandboxKey();
    const res = await api('POST', '/v1/locations', {
      body: { name: 'The Racer', softwareHouseId, dojoAccountId: `acc_${Math.random().toString(36).slice(2)}`, apiKey: key, capabilities },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.id as string, key };
  };

  it('an outdated attempt that fails after a newer set registered leaves the newer success alone', async () => {
    const { id, key } = await onboard([...ALL_CAPABILITIES]);
    const stale = await heldAttempt(key, id);
    // Meanwhile the operator narrowed the set, and its own registration went through.
    const narrowed = ALL_CAPABILITIES.slice(0, 2);
    const { apiKeyCiphertext, restUrl } = await db.prisma.location.update({ where: { id }, data: { capabilities: narrowed } });
    assert.equal(await new LocationsRepository(db.prisma).recordRegistered(id, { capabilities: narrowed, apiKeyCiphertext, restUrl }, new Date()), true);
    const out = await stale.finish();
    assert.equal(out.outcome, 'superseded');
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.deepEqual([row.registrationState, row.registrationError, row.registrationDeadAt], ['registered', null, null]);
    assert.equal((await api('GET', `/v1/dead-letters?locationId=${id}`)).body.items.length, 0);
  });

  it('an attempt overtaken by a later success of the same set does not mark it failed; one that is not overtaken does', async () => {
    const caps = ALL_CAPABILITIES.slice(0, 3);
    const { id, key } = await onboard(caps);
    const stale = await heldAttempt(key, id);
    const { apiKeyCiphertext, restUrl } = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.equal(await new LocationsRepository(db.prisma).recordRegistered(id, { capabilities: caps, apiKeyCiphertext, restUrl }, new Date()), true);
    assert.equal((await stale.finish()).outcome, 'superseded');
    assert.equal((await db.prisma.location.findUniqueOrThrow({ where: { id } })).registrationState, 'registered');

    // Nothing newer: the refusal is recorded as before, a dead letter.
    await sleep(10);
    const plain = await heldAttempt(key, id);
    assert.equal((await plain.finish()).outcome, 'refused');
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.equal(row.registrationState, 'failed');
    assert.ok(row.registrationDeadAt);
  });

  it("an old key's success that lands after the new key's attempt started is not the new key's registration: the new key's failure counts", async () => {
    const { id, key: oldKey } = await onboard(ALL_CAPABILITIES.slice(0, 2));
    const oldAttempt = await heldAttempt(oldKey, id, 200);
    const newKey = sandboxKey();
    assert.equal((await api('PUT', `/v1/locations/${id}/api-key`, { body: { apiKey: newKey } })).status, 200);
    const newAttempt = await heldAttempt(newKey, id, 503, false);
    const old = await oldAttempt.finish();
    assert.equal(old.outcome, 'retry', 'the old key registered the old key\'s account: not recorded, tried again with the current key');
    assert.equal((await db.prisma.location.findUniqueOrThrow({ where: { id } })).registrationState, 'pending');
    const failed = await newAttempt.finish();
    assert.equal(failed.outcome, 'retry', 'recorded, not superseded');
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.deepEqual([row.registrationState, row.registeredAt], ['pending', null], 'never shown registered: the new key\'s account has no capabilities yet');
    assert.match(row.registrationError ?? '', /503/);
  });

  it('an attempt overtaken by a success whose registration no longer stands (a later failure made it pending) counts its own failure', async () => {
    const caps = ALL_CAPABILITIES.slice(0, 2);
    const { id, key } = await onboard(caps);
    const repo = new LocationsRepository(db.prisma);
    const stale = await heldAttempt(key, id, 503, false);
    const { apiKeyCiphertext, restUrl } = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.equal(await repo.recordRegistered(id, { capabilities: caps, apiKeyCiphertext, restUrl }, new Date()), true);
    await sleep(10);
    // A later attempt of the same key and set failed after that success: the location waits for a registration again.
    const later = { capabilities: caps, apiKeyCiphertext, restUrl, startedAt: new Date() };
    assert.equal(await repo.recordRegistrationFailure(id, { state: 'pending', error: 'Dojo answered 502', dead: false, at: new Date() }, later), true);
    const out = await stale.finish();
    assert.equal(out.outcome, 'retry', 'not superseded: nothing registered stands for it');
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id } });
    assert.equal(row.registrationState, 'pending');
    assert.match(row.registrationError ?? '', /503/);
  });

  it('a re-sync racing a switch away from epos-data never leaves the other protocol pending: it waits for the switch and is refused', async () => {
    const { id } = await onboard(ALL_CAPABILITIES.slice(0, 2));
    await markFailed(id);
    // A protocol switch holding the row (as PUT /protocol does under its lock), committed while the re-sync waits.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("UPDATE locations SET protocol = 'dojo-tables', registration_state = 'not_required' WHERE id = $1::uuid", [id]);
      const resync = api('POST', `/v1/locations/${id}/registration/resync`);
      await waitFor(async () => {
        const r = await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        );
        return r.rows[0]!.n > 0 || undefined;
      }, 'the re-sync waiting on the row the switch holds');
      await holder.query('COMMIT');
      const res = await resync;
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.fields[0].field, 'protocol');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    assert.equal((await registration(id))[0], 'not_required', 'not swept as pending');
  });
});
