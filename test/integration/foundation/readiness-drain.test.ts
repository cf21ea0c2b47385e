import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, waitFor } from '@app/testing';
import type { AppProcess } from '../../support/app-processes';
import { killApps, spawnApps } from '../../support/app-processes';

/**
 * The probes deploy/k8s uses: /health/live answers while the process runs,
 * /health/ready turns 503 "draining" at SIGTERM while the app still serves for
 * SHUTDOWN_DRAIN_MS, and then the app closes cleanly.
 */
describe('liveness and readiness probes, draining on SIGTERM', () => {
  let db: TestDatabase;
  let apps: AppProcess[] = [];

  before(async () => {
    db = await createTestDatabase('drain');
  });

  after(async () => {
    await killApps(apps);
    await db?.drop();
  });

  it('webhook: ready, then draining (not ready, still live) for SHUTDOWN_DRAIN_MS after SIGTERM, then exit 0', async () => {
    apps = await spawnApps(['webhook'], () => ({ ...process.env, ...appEnv(db, { SHUTDOWN_DRAIN_MS: '1500', LOG_LEVEL: 'info' }) }));
    const app = apps[0]!;
    const get = (path: string) => fetch(`${app.url}${path}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string } }));
    assert.deepEqual((await get('/health/live')).status, 200);
    const ready = await get('/health/ready');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    const signalled = Date.now();
    app.child.kill('SIGTERM');
    const draining = await waitFor(async () => {
      const r = await get('/health/ready');
      return r.status === 503 ? r : undefined;
    }, 'readiness 503 after SIGTERM', 2_000, 20);
    assert.equal(draining.body.status, 'draining');
    assert.equal((await get('/health/live')).status, 200, 'still live while draining');
    assert.equal(await app.exited, 0, 'a clean exit after the drain');
    assert.ok(Date.now() - signalled >= 1_500, 'kept serving for SHUTDOWN_DRAIN_MS');
  });
});
