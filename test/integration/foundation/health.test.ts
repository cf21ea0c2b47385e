import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import { findRedisServer, RedisProcess } from '@app/infra';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startGateway } from '../../../apps/gateway/src/main';
import { startWebhook } from '../../../apps/webhook/src/main';
import { startWorker } from '../../../apps/worker/src/main';

type Health = { status: string; checks: { postgres: { ok: boolean; error?: string }; redis: { ok: boolean; error?: string } } };

async function health(app: RunningApp): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${app.url}/health`);
  return { code: res.status, body: (await res.json()) as Health };
}

describe('every app boots and reports its dependencies on GET /health', () => {
  let db: TestDatabase;
  let redis: RedisProcess;
  const apps: Record<string, RunningApp> = {};

  before(async () => {
    db = await createTestDatabase('health');
    // A private Redis, so stopping it does not disturb other test files.
    redis = await RedisProcess.start(findRedisServer()!);
    // Over its Unix socket (REDIS_URL=redis+unix://..., what npm start gives the apps); every other test uses TCP.
    assert.ok(redis.socketUrl, 'the local Redis has a socket');
    const env = appEnv(db, { REDIS_URL: redis.socketUrl, QUEUE_PREFIX: uniquePrefix('health'), ADMIN_OPERATOR_TOKENS: 'operator-token-health-0001' });
    apps.admin = await startAdmin(env);
    apps.gateway = await startGateway(env);
    apps.worker = await startWorker(env);
    apps.webhook = await startWebhook(env);
  });

  after(async () => {
    for (const a of Object.values(apps)) await a.close().catch(() => undefined); // best effort (teardown)
    await redis.stop();
    await db.drop();
  });

  it('answers 200 with Postgres and Redis both ok', async () => {
    for (const [name, app] of Object.entries(apps)) {
      const { code, body } = await health(app);
      assert.equal(code, 200, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.status, 'ok');
      assert.equal(body.checks.postgres.ok, true);
      assert.equal(body.checks.redis.ok, true);
    }
  });

  it('turns unhealthy with a readable reason when Redis stops, and recovers when it returns', async () => {
    await redis.stop();
    for (const [name, app] of Object.entries(apps)) {
      const { code, body } = await health(app);
      assert.equal(code, 503, name);
      assert.equal(body.status, 'unhealthy');
      assert.equal(body.checks.postgres.ok, true);
      assert.equal(body.checks.redis.ok, false);
      assert.ok(body.checks.redis.error && body.checks.redis.error.length > 5, `${name} gives a reason: ${body.checks.redis.error}`);
      // Readiness: the webhook app (events stored in Postgres, their enqueue not waited for) and the admin app (the
      // venue API is Postgres only) stay in their Services; the gateway and the worker cannot work without Redis.
      const ready = await fetch(`${app.url}/health/ready`);
      const readyBody = (await ready.json()) as Health & { notRequired?: string[] };
      const needsRedis = name === 'gateway' || name === 'worker';
      assert.equal(ready.status, needsRedis ? 503 : 200, `${name} /health/ready: ${JSON.stringify(readyBody)}`);
      assert.equal(readyBody.checks.redis.ok, false, `${name}: the Redis check is still reported`);
      if (!needsRedis) assert.deepEqual(readyBody.notRequired, ['redis']);
    }
    await redis.start();
    for (const [name, app] of Object.entries(apps)) {
      let last: { code: number; body: Health } | undefined;
      for (let i = 0; i < 100; i++) {
        last = await health(app);
        if (last.code === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(last?.code, 200, `${name} recovers: ${JSON.stringify(last?.body)}`);
    }
  });
});
