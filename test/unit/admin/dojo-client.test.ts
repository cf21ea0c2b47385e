import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dojoApiMetrics } from '@app/common';
import { DojoApiError, DojoClient } from '@app/dojo-client';
import { DojoStandIn } from '../../integration/admin/support/dojo-stand-in';

describe('DojoClient', () => {
  let dojo: DojoStandIn;
  before(async () => {
    dojo = await new DojoStandIn().start();
  });
  after(async () => dojo.stop());

  it('sends Basic <key as-is>, the version header, and retries 429/5xx with backoff', async () => {
    let n = 0;
    const stop = dojo.respond((r) => (r.path === '/epos/events' && n++ < 2 ? { status: n === 1 ? 429 : 502, body: { title: 'busy' } } : undefined));
    const client = new DojoClient({ baseUrl: 'http://unused.invalid', apiVersion: '2026-02-27', maxAttempts: 3, backoffBaseMs: 5 });
    await client.sendPosEvent({ apiKey: 'sk_sandbox_abc', baseUrl: dojo.url }, { eventType: 'OrderUpdated', event: { orderId: 'o1' } });
    stop();
    const reqs = dojo.find((r) => r.path === '/epos/events');
    assert.equal(reqs.length, 3);
    const third = reqs[2]!;
    assert.equal(third.headers.authorization, 'Basic sk_sandbox_abc');
    assert.equal(third.headers.version, '2026-02-27');
    assert.deepEqual(third.body, { eventType: 'OrderUpdated', event: { orderId: 'o1' } });
  });

  it("does not retry a 4xx and says what Dojo answered, without the key", async () => {
    const stop = dojo.respond((r) => (r.path === '/epos/integrations/ws' ? { status: 403, body: { title: 'Forbidden', detail: 'no permission' } } : undefined));
    const before = dojo.requests.length;
    const client = new DojoClient({ baseUrl: dojo.url, apiVersion: '2026-02-27', maxAttempts: 3, backoffBaseMs: 5 });
    await assert.rejects(client.registerWsCapabilities({ apiKey: 'sk_prod_secret1234' }, ['SearchOrders']), (err: unknown) => {
      assert.ok(err instanceof DojoApiError);
      assert.equal(err.status, 403);
      assert.match(err.message, /403.*no permission/);
      assert.ok(!err.message.includes('sk_prod_secret1234'));
      return true;
    });
    stop();
    assert.equal(dojo.requests.length - before, 1);
  });

  it('times out and reports no answer', async () => {
    const client = new DojoClient({ baseUrl: 'http://127.0.0.1:9', apiVersion: 'v', maxAttempts: 2, backoffBaseMs: 1, timeoutMs: 500 });
    await assert.rejects(client.listIntegrations({ apiKey: 'sk_sandbox_x' }), (err: unknown) => err instanceof DojoApiError && err.status === 0 && err.attempts === 2);
  });

  it('gives up after timeoutMs on a server that never answers or never finishes its answer, and reuses one connection for calls in a row', async () => {
    const sockets = new Set<unknown>();
    const server = http.createServer((req, res) => {
      if (req.url === '/epos/integrations') return; // never answers
      if (req.url?.startsWith('/payment-intents/')) return void res.writeHead(200, { 'content-type': 'application/json' }).write('{"id":'); // answers half
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = new DojoClient({ baseUrl: url, apiVersion: 'v', maxAttempts: 1, timeoutMs: 300 });
      const t0 = Date.now();
      await assert.rejects(client.listIntegrations({ apiKey: 'sk_sandbox_x' }), (err: unknown) => {
        assert.ok(err instanceof DojoApiError && err.status === 0, String(err));
        assert.match(err.message, /timed out after 300 ms/);
        return true;
      });
      assert.ok(Date.now() - t0 < 3_000, 'gave up near timeoutMs');
      await assert.rejects(client.getPaymentIntent({ apiKey: 'sk_sandbox_x' }, 'pi_1'), (err: unknown) => {
        assert.ok(err instanceof DojoApiError && err.status === 0, String(err));
        assert.match(err.message, /timed out after 300 ms/, 'a body cut short by the timeout reads as the timeout');
        return true;
      });
      const before = sockets.size;
      for (let i = 0; i < 5; i++) assert.deepEqual(await client.sendPosEvent({ apiKey: 'sk_sandbox_x' }, { eventType: 'OrderUpdated', event: { orderId: `o${i}` } }), { ok: true });
      assert.equal(sockets.size - before, 1, 'five calls in a row on one kept-alive connection');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('Dojo API metrics: endpoint labels', () => {
  it("labels a call by its route template: one route's many ids never push another route out, and only new templates past the cap read `other`", () => {
    const metrics = dojoApiMetrics();
    const endpoint = (method: string, path: string) => metrics.endpoint(method, path);
    for (let i = 0; i < 200; i++) assert.equal(endpoint('GET', `/payment-intents/pi_sandbox_${i}?returnCanceled=true`), 'GET /payment-intents/:id');
    assert.equal(endpoint('PUT', '/epos/integrations/ws'), 'PUT /epos/integrations/ws', 'a route first seen after 200 intents');
    // Letters only, so no segment reads as an id: each is a template of its own, until the cap.
    const name = (i: number) => String.fromCharCode(97 + (i % 26), 97 + Math.floor(i / 26));
    const labels = Array.from({ length: 100 }, (_, i) => endpoint('GET', `/made-up/${name(i)}`));
    assert.ok(labels.includes('other'), 'distinct templates are capped');
    assert.ok(labels.filter((l) => l !== 'other').length < 64);
    assert.equal(endpoint('GET', '/payment-intents/pi_new_one'), 'GET /payment-intents/:id', 'a template seen before the cap keeps its label');
    assert.equal(endpoint('POST', '/never-seen'), 'other');
  });
});
