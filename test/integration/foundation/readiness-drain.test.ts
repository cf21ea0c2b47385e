import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
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

  it('webhook: a keep-alive connection still answering when the drain ends does not hold the close for HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    await killApps(apps);
    // 65 s keep-alive, as behind the ingress (deploy/k8s); the shutdown timeout well below it.
    const env = appEnv(db, { SHUTDOWN_DRAIN_MS: '500', SHUTDOWN_TIMEOUT_MS: '8000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000', LOG_LEVEL: 'info' });
    apps = await spawnApps(['webhook'], () => ({ ...process.env, ...env }));
    const app = apps[0]!;
    await waitFor(async () => (await fetch(`${app.url}/health/ready`)).status === 200 || undefined, 'ready', 20_000, 100);
    // A client that keeps its connection, as a proxy does: a request whose body is still arriving when the drain ends.
    const { hostname, port } = new URL(app.url!);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined); // closed by the server at the end: expected
    let answer = '';
    socket.on('data', (d) => (answer += String(d)));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.write('POST /webhooks/dojo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{');
    await new Promise((r) => setTimeout(r, 300));
    const signalled = Date.now();
    app.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_500)); // past the drain: the server is closing, this connection busy
    socket.write('}');
    await waitFor(() => /^HTTP\/1\.1 \d{3}/.test(answer) || undefined, 'an answer on the kept connection', 5_000, 20);
    assert.equal(await app.exited, 0, 'a clean exit, not the SHUTDOWN_TIMEOUT_MS one');
    assert.ok(Date.now() - signalled < 6_000, `closed ${Date.now() - signalled} ms after SIGTERM, well before the 8.5 s timeout`);
    await closed;
  });
});
