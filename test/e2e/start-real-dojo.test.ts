import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DojoSandbox } from '@app/dojo-sandbox';
import { freePort } from '@app/infra';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { TerminalProcess } from './terminal';
import { pressCtrlC, spawnInTerminal, startEnv } from './terminal';

// `npm start` with DOJO_API_KEY, DOJO_ACCOUNT_ID and DOJO_SOFTWARE_HOUSE_ID: a real Dojo
// account, whose card machines would show whatever the platform holds for it. Dojo is
// stood in for by the sandbox, reached through DOJO_API_URL / DOJO_WS_URL like real Dojo.
describe('npm start against real Dojo', () => {
  let db: TestDatabase;
  let dojo: DojoSandbox;
  let term: TerminalProcess | undefined;
  const account = { apiKey: 'sk_sandbox_real_mode_0001_abcdef', accountId: 'acc_real_mode_0001', softwareHouseId: 'sh_real_mode' };

  before(async () => {
    db = await createTestDatabase('realdojo');
    dojo = await DojoSandbox.start({ port: 0, host: '127.0.0.1' });
    dojo.addAccount(account);
  });
  after(async () => {
    term?.kill();
    await dojo.close();
    await db.drop();
  });

  it('onboards the account with the names given, seeds nothing, and says how to load the venue through the venue API', async () => {
    const [admin, gateway, worker, webhook, sandbox] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    term = spawnInTerminal(join(__dirname, '..', '..', 'scripts', 'start.js'), startEnv({ admin, gateway, worker, webhook, sandbox }, {
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: uniquePrefix('realdojo'),
      DOJO_API_KEY: account.apiKey,
      DOJO_ACCOUNT_ID: account.accountId,
      DOJO_SOFTWARE_HOUSE_ID: account.softwareHouseId,
      DOJO_API_URL: dojo.url,
      DOJO_WS_URL: dojo.wsUrl,
      START_VENUE_NAME: 'The Real Rose & Crown',
      START_SOFTWARE_HOUSE_NAME: 'Real Tills plc',
    }));
    const out = () => term!.output();
    await waitFor(() => out().includes('Ctrl-C stops everything') || term!.child.exitCode !== null, 'npm start to be ready', 90_000, 100);
    assert.equal(term.child.exitCode, null, out());

    const loc = await db.prisma.location.findFirstOrThrow({ where: { dojoAccountId: account.accountId }, include: { softwareHouse: true } });
    assert.equal(loc.name, 'The Real Rose & Crown');
    assert.equal(loc.softwareHouse.name, 'Real Tills plc');
    const where = { where: { locationId: loc.id } };
    assert.deepEqual(
      { areas: await db.prisma.area.count(where), tables: await db.prisma.diningTable.count(where), orders: await db.prisma.order.count(where) },
      { areas: 0, tables: 0, orders: 0 },
      'nothing seeded into the real account',
    );
    assert.ok(!out().includes('Demo'), out());
    assert.match(out(), /onboarded "The Real Rose & Crown" under "Real Tills plc"/);
    // How to load the venue's data: a venue token that the venue API accepts, and the route to use.
    const token = /venue token\s+(vt_\S+)/.exec(out())?.[1];
    assert.ok(token, out());
    assert.match(out(), new RegExp(`curl -X PUT http://127\\.0\\.0\\.1:${admin}/venue/v1/locations/${loc.id}/tables/T1`));
    const put = await fetch(`http://127.0.0.1:${admin}/venue/v1/locations/${loc.id}/tables/T1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Table 1', maxCovers: 4 }),
    });
    assert.equal(put.status, 200, await put.text());
    assert.equal(await db.prisma.diningTable.count(where), 1);
    assert.ok(dojo.registrations[account.accountId]?.capabilities.length, 'capabilities registered with "Dojo"');

    // Ctrl-C as under `npm start`: the terminal signals the group, and npm forwards its copy to the script.
    const stop = await pressCtrlC(term, { forwardedByNpm: true });
    assert.equal(stop.code, 0, out());
    assert.ok(stop.seconds < 15, `stopped ${stop.seconds} s after Ctrl-C`);
    assert.match(out(), /stopped\.\n/);
  });
});
