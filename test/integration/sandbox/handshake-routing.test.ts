import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { DojoSandbox, NotRoutedError } from '@app/dojo-sandbox';
import { sleep, waitFor } from '@app/testing';
import { FakeEpos, handshakeStatus } from './fake-epos';

describe('dojo sandbox: handshake, pings, routing, REST stand-ins', () => {
  let sim: DojoSandbox;
  const logLines: any[] = [];
  const fakes: FakeEpos[] = [];
  const fake = (apiKey: string, extra: Partial<ConstructorParameters<typeof FakeEpos>[0]> = {}) => {
    const f = new FakeEpos({ wsUrl: sim.wsUrl, restUrl: sim.url, apiKey, softwareHouseId: 'sh_test', ...extra });
    fakes.push(f);
    return f;
  };
  /** A call to the sandbox's REST API as Dojo's clients make it: with the `version` header unless `version: null`. */
  const rest = (path: string, init: RequestInit & { key?: string; version?: string | null } = {}) =>
    fetch(`${sim.url}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(init.key ? { authorization: `Basic ${init.key}` } : {}),
        ...(init.version === null ? {} : { version: init.version ?? '2026-02-27' }),
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  before(async () => {
    const stream = new Writable({
      write(chunk, _enc, cb) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        cb();
      },
    });
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 100, logger: pino({ level: 'info' }, stream) });
    sim.addAccount({ apiKey: 'sk_sandbox_a', softwareHouseId: 'sh_test', accountId: 'acc_a' });
    sim.addAccount({ apiKey: 'sk_sandbox_b', softwareHouseId: 'sh_test', accountId: 'acc_b' });
  });

  after(async () => {
    for (const f of fakes) f.close();
    await sim.close();
  });

  it('refuses the handshake with 401 for an unknown key, a base64 key, a missing header or software-house-id', async () => {
    assert.equal(await handshakeStatus(sim.wsUrl, { authorization: 'Basic sk_sandbox_nope', 'software-house-id': 'sh_test' }), 401);
    const b64 = Buffer.from('sk_sandbox_a').toString('base64');
    assert.equal(await handshakeStatus(sim.wsUrl, { authorization: `Basic ${b64}`, 'software-house-id': 'sh_test' }), 401);
    assert.equal(await handshakeStatus(sim.wsUrl, { 'software-house-id': 'sh_test' }), 401);
    assert.equal(await handshakeStatus(sim.wsUrl, { authorization: 'Basic sk_sandbox_a' }), 401);
    assert.equal(await handshakeStatus(sim.wsUrl, { authorization: 'Basic sk_sandbox_a', 'software-house-id': 'sh_other' }), 401);
    assert.equal(sim.connectionsFor('acc_a'), 0);
  });

  it('accepts a known key with a software-house-id and pings the connection', async () => {
    assert.equal(await handshakeStatus(sim.wsUrl, { authorization: 'Basic sk_sandbox_a', 'software-house-id': 'sh_test' }), 101);
    const f = await fake('sk_sandbox_a').connect();
    await waitFor(() => sim.connectionsFor('acc_a') === 1, 'connection counted');
    await waitFor(() => f.pings >= 2, 'two pings from the sandbox', 3_000);
    await waitFor(() => sim.connections('acc_a')[0]!.pongsReceived >= 1, 'pong recorded', 3_000);
    f.close();
    await waitFor(() => sim.connectionsFor('acc_a') === 0, 'connection gone');
  });

  it('routes a method only when its capability is registered; PUT replaces the full set', async () => {
    const f = await fake('sk_sandbox_a').connect();
    f.seedOrder('ord_1', 'T1', 2000);
    await waitFor(() => sim.connectionsFor('acc_a') === 1, 'connected');
    // Nothing registered yet: nothing is sent.
    await assert.rejects(sim.call('acc_a', 'SearchOrdersV1', { payableOnly: true }), NotRoutedError);
    await f.register(['SearchOrders']);
    const reply = (await sim.call('acc_a', 'SearchOrdersV1', { payableOnly: true })) as any;
    assert.equal(reply.result.data[0].id, 'ord_1');
    await assert.rejects(sim.call('acc_a', 'GetOrderByIdV1', { orderId: 'ord_1' }), /GetOrderByIdV1 not sent: capability GetOrderById is not registered for acc_a/);
    await f.register(['GetOrderById']);
    await assert.rejects(sim.call('acc_a', 'SearchOrdersV1', {}), NotRoutedError);
    assert.equal((await sim.call('acc_a', 'GetOrderByIdV1', { orderId: 'ord_1' }) as any).result.id, 'ord_1');
    assert.deepEqual(
      f.received.map((r) => r.method),
      ['SearchOrdersV1', 'GetOrderByIdV1'],
      'unregistered methods never reached the EPOS',
    );
    // Every request carries params.headers, as Dojo sends them.
    assert.ok(f.received.every((r) => typeof r.params.headers === 'object'));

    // A flow step reports the unregistered method and the flow fails there.
    const flow = await sim.runFlow('pay-at-table', { accountId: 'acc_a', tableId: 'T1' });
    assert.equal(flow.status, 'FAILURE');
    const failed = flow.steps.find((s) => s.status === 'FAILURE')!;
    assert.equal(failed.name, 'SearchOrdersV1');
    assert.match(failed.additionalInformation[0]!, /SearchOrdersV1 not sent: capability SearchOrders is not registered/);
    f.close();
    await waitFor(() => sim.connectionsFor('acc_a') === 0, 'connection gone');
  });

  it('sends a retry with the JSON-RPC id it is given, as Dojo retries a request', async () => {
    sim.addAccount({ apiKey: 'sk_sandbox_retry', softwareHouseId: 'sh_test', accountId: 'acc_retry' });
    const f = await fake('sk_sandbox_retry').connect();
    f.seedOrder('ord_r', 'T1', 1500);
    await f.register(['SearchOrders']);
    await waitFor(() => sim.connectionsFor('acc_retry') === 1, 'connected');
    const first = (await sim.call('acc_retry', 'SearchOrdersV1', { payableOnly: true }, { id: 'dojo-retry-1' })) as any;
    const again = (await sim.call('acc_retry', 'SearchOrdersV1', { payableOnly: true }, { id: 'dojo-retry-1' })) as any;
    assert.equal(first.id, 'dojo-retry-1');
    assert.equal(again.id, 'dojo-retry-1');
    assert.deepEqual(f.received.map((r) => r.id), ['dojo-retry-1', 'dojo-retry-1']);
    f.close();
    await waitFor(() => sim.connectionsFor('acc_retry') === 0, 'connection gone');
  });

  it('keeps one routed connection per location: the newest wins, the second is logged and counted', async () => {
    const first = await fake('sk_sandbox_b').connect();
    await first.register(['SearchOrders']);
    await waitFor(() => sim.connectionsFor('acc_b') === 1, 'first connected');
    const second = await fake('sk_sandbox_b').connect();
    await waitFor(() => sim.connectionsFor('acc_b') === 2, 'second counted');
    assert.equal(sim.peakConnectionsFor('acc_b'), 2);
    assert.ok(
      logLines.some((l) => l.level === 40 && l.locationId === 'acc_b' && /another connection for the same location/.test(l.msg)),
      'a warning names the location',
    );
    await sim.call('acc_b', 'SearchOrdersV1', {});
    assert.equal(second.received.length, 1, 'the newest connection receives routed requests');
    assert.equal(first.received.length, 0);
    const routed = sim.connections('acc_b').filter((c) => c.routed);
    assert.equal(routed.length, 1);
    second.close();
    await waitFor(() => sim.connectionsFor('acc_b') === 1, 'back to one');
    await sim.call('acc_b', 'SearchOrdersV1', {});
    assert.equal(first.received.length, 1, 'the remaining connection takes over');
    const counts = (await (await rest('/_sandbox/connections')).json()) as any;
    assert.equal(counts.counts.acc_b, 1);
    first.close();
  });

  it('serves the REST stand-ins with Basic <key> auth', async () => {
    assert.equal((await rest('/epos/integrations')).status, 401);
    assert.equal((await rest('/epos/integrations', { key: 'sk_sandbox_nope' })).status, 401);
    const put = await rest('/epos/integrations/ws', {
      method: 'PUT',
      key: 'sk_sandbox_a',
      body: JSON.stringify({ capabilities: [{ name: 'SearchOrders', version: 'v1' }, { name: 'GetOrderBill', version: 'v1' }] }),
    });
    assert.equal(put.status, 200);
    const [integration] = (await put.json()) as any[];
    assert.deepEqual(integration.capabilities.map((c: any) => c.name), ['SearchOrders', 'GetOrderBill']);
    assert.ok(integration.createdAt && integration.capabilities[0].updatedAt);
    const bad = await rest('/epos/integrations/ws', { method: 'PUT', key: 'sk_sandbox_a', body: JSON.stringify({ capabilities: [{ name: 'GetOrder', version: 'v1' }] }) });
    assert.equal(bad.status, 400);
    const all = (await (await rest('/epos/integrations', { key: 'sk_sandbox_a' })).json()) as any;
    assert.equal(all.wsIntegrations[0].capabilities.length, 2);
    assert.deepEqual(all.restIntegrations, []);
    assert.equal(sim.registrations.acc_a!.capabilities.length, 2);

    const ev = await rest('/epos/events', { method: 'POST', key: 'sk_sandbox_a', body: JSON.stringify({ eventType: 'OrderUpdated', event: { orderId: 'ord_9' } }) });
    assert.equal(ev.status, 200);
    assert.equal((await rest('/epos/events', { method: 'POST', key: 'sk_sandbox_a', body: JSON.stringify({ eventType: 'OrderUpdated', event: {} }) })).status, 400);
    assert.equal((await rest('/epos/events', { method: 'POST', key: 'sk_sandbox_a', body: JSON.stringify({ eventType: 'Nope', event: { orderId: 'x' } }) })).status, 400);
    const recorded = (await (await rest('/_sandbox/pos-events?accountId=acc_a')).json()) as any[];
    assert.deepEqual(recorded.map((r) => [r.eventType, r.event.orderId]), [['OrderUpdated', 'ord_9']]);
    assert.equal(sim.posEvents.length, 1);

    const sub = await rest('/webhooks', { method: 'POST', key: 'sk_sandbox_a', body: JSON.stringify({ events: ['payment_intent.created'], url: 'https://example.com/hook' }) });
    assert.equal(sub.status, 200);
    const s = (await sub.json()) as any;
    assert.match(s.id, /^ws_/);
    assert.equal(s.accountId, 'acc_a');
    assert.ok(s.secrets[0].value.length >= 16 && s.secrets[0].isActive);
    const list = (await (await rest('/webhooks', { key: 'sk_sandbox_a' })).json()) as any[];
    assert.equal(list.length, 1);
    assert.equal((await rest('/webhooks', { method: 'POST', key: 'sk_sandbox_a', body: JSON.stringify({ events: [], url: 'x' }) })).status, 400);
    await sleep(0);
  });

  it("requires Dojo's version header (a date) on the payment-intent and webhook calls: 400 naming it", async () => {
    const create = (version?: string | null) =>
      rest('/payment-intents', { method: 'POST', key: 'sk_sandbox_a', version, body: JSON.stringify({ amount: { value: 1000, currencyCode: 'GBP' }, reference: 'ref-version' }) });
    const created = await create();
    assert.equal(created.status, 200, await created.clone().text());
    const pi = (await created.json()) as { id: string };
    const calls: Array<[string, string, string?]> = [
      ['POST', '/payment-intents', JSON.stringify({ amount: { value: 1000, currencyCode: 'GBP' }, reference: 'ref-version' })],
      ['GET', `/payment-intents/${pi.id}`],
      ['DELETE', `/payment-intents/${pi.id}`],
      ['POST', `/payment-intents/${pi.id}/captures`, JSON.stringify({ amount: 1000 })],
      ['POST', `/payment-intents/${pi.id}/tips-amount`, JSON.stringify({ tipsAmount: { value: 100, currencyCode: 'GBP' } })],
      ['POST', `/payment-intents/${pi.id}/refunds`, JSON.stringify({ amount: 100 })],
      ['POST', `/payment-intents/${pi.id}/reversal`],
      ['POST', '/webhooks', JSON.stringify({ events: ['payment_intent.created'], url: 'https://example.com/hook' })],
      ['GET', '/webhooks'],
    ];
    for (const [method, path, body] of calls) {
      for (const version of [null, '', '27-02-2026', '2026-02-30', '2026-02-27T00:00:00Z']) {
        const res = await rest(path, { method, key: 'sk_sandbox_a', version, body, ...(path.endsWith('/refunds') ? { headers: { idempotencyKey: 'k' } } : {}) });
        assert.equal(res.status, 400, `${method} ${path} with version ${JSON.stringify(version)}`);
        const problem = (await res.json()) as { status: number; title: string; detail: string; errors: Record<string, string[]> };
        assert.equal(problem.status, 400);
        assert.equal(problem.title, 'Bad Request');
        assert.match(problem.detail, /the version header (is required|must be a date as YYYY-MM-DD)/);
        assert.ok(problem.errors.version?.length, `${method} ${path}: errors name version`);
      }
      assert.equal((await rest(path, { method, key: 'sk_sandbox_nope', version: null, body })).status, 401, `${method} ${path}: an unknown key is still 401`);
    }
    assert.equal((await rest(`/payment-intents/${pi.id}`, { key: 'sk_sandbox_a' })).status, 200, 'with the header the same read is answered');
    assert.equal((await rest('/webhooks', { key: 'sk_sandbox_a' })).status, 200);
    assert.equal((await rest('/epos/integrations', { key: 'sk_sandbox_a', version: null })).status, 200, 'the EPOS calls have no version header in the spec');
    assert.equal(sim.paymentIntents.captureRequests.length, 0, 'a refused call changed nothing');
  });
});
