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

  before(async () => {
    db = await createTestDatabase('loglines');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    const sh = await fx.softwareHouse();
    await fx.location({ softwareHouseId: sh.id });
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
