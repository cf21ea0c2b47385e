import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import { findRedisServer, RedisProcess } from '@app/infra';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import type { Api } from './support/helpers';
import { newSoftwareHouse } from './support/admin-stand';
import { apiClient, OPERATOR_TOKEN, sandboxKey } from './support/helpers';

/**
 * The operator API while its Redis is down (a private Redis, stopped): what is Postgres only still works and answers
 * in bounded time; what needs Redis says so (503 redis_unavailable) instead of a bare 500.
 */
describe('operator API during a Redis outage', () => {
  let db: TestDatabase;
  let redis: RedisProcess;
  let admin: RunningApp;
  let api: Api;
  let softwareHouseId: string;
  let locationId: string;

  before(async () => {
    db = await createTestDatabase('adminredisout');
    redis = await RedisProcess.start(findRedisServer()!);
    admin = await startAdmin(appEnv(db, { REDIS_URL: redis.url, ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, QUEUE_PREFIX: uniquePrefix('redisout') }));
    api = apiClient(admin.url);
    softwareHouseId = await newSoftwareHouse(api, 'Outage Ltd');
    // Written directly: the admin's BullMQ connection is first used once Redis is down (it then waits without end).
    locationId = (await fixtures(db.prisma).location({ softwareHouseId })).id;
    await redis.stop();
  });

  after(async () => {
    await admin?.close();
    await redis?.stop();
    await db?.drop();
  });

  it('bulk onboarding answers every row in bounded time, not a Redis timeout per row; the rows stay pending for the sweep', { timeout: 60_000 }, async () => {
    const rows = Array.from({ length: 12 }, (_, i) => ({ name: `Bulk ${i}`, softwareHouseId, dojoAccountId: `acc_out_bulk_${Date.now()}_${i}`, apiKey: sandboxKey() }));
    const t0 = Date.now();
    const res = await api('POST', '/v1/locations/bulk', { body: { locations: rows } });
    const took = Date.now() - t0;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.created, res.body.failed], [12, 0]);
    assert.ok(took < 10_000, `answered in ${took} ms (a Redis timeout per row took about 5 s each)`);
    const stored = await db.prisma.location.findMany({ where: { dojoAccountId: { in: rows.map((r) => r.dojoAccountId) } }, select: { registrationState: true } });
    assert.equal(stored.length, 12);
    assert.ok(stored.every((s) => s.registrationState === 'pending'), "not scheduled: the worker's sweep schedules them");
  });

  it('single onboarding answers in bounded time: the registration schedule does not wait for BullMQ as long as Redis is down', { timeout: 60_000 }, async () => {
    const t0 = Date.now();
    const res = await api('POST', '/v1/locations', { body: { name: 'Single', softwareHouseId, dojoAccountId: `acc_out_one_${Date.now()}`, apiKey: sandboxKey() } });
    const took = Date.now() - t0;
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(took < 10_000, `answered in ${took} ms`);
  });

  it("answers 503 redis_unavailable with Retry-After where the route needs Redis: a reconnect, a location's request records", async () => {
    for (const [method, path] of [['POST', `/v1/locations/${locationId}/reconnect`], ['GET', `/v1/locations/${locationId}/requests`]] as const) {
      const t0 = Date.now();
      const res = await fetch(`${admin.url}${path}`, { method, headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
      const body = (await res.json()) as { error?: string; message?: string; requestId?: string };
      assert.equal(res.status, 503, `${method} ${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error, 'redis_unavailable');
      assert.match(body.message ?? '', /Redis/);
      assert.ok(body.requestId);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After');
      assert.ok(Date.now() - t0 < 10_000, `${path} answered in ${Date.now() - t0} ms`);
    }
    // What does not need Redis still answers: no such location is 404 before Redis is asked.
    const missing = await api('POST', '/v1/locations/00000000-0000-4000-8000-000000000000/reconnect');
    assert.equal(missing.status, 404);
  });
});
