import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { dojoSignature, DojoSandbox } from '@app/dojo-sandbox';
import { sleep, waitFor } from '@app/testing';
import { ALL_TEST_CAPABILITIES, FakeEpos } from './fake-epos';

describe('dojo sandbox: misbehaviour switches', () => {
  let sim: DojoSandbox;
  const fakes: FakeEpos[] = [];
  const control = async (path: string, body: unknown) => {
    const res = await fetch(`${sim.url}/_sandbox/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return (await res.json()) as any;
  };
  const connect = async (n: string, extra: Partial<ConstructorParameters<typeof FakeEpos>[0]> = {}) => {
    const f = new FakeEpos({ wsUrl: sim.wsUrl, restUrl: sim.url, apiKey: `sk_${n}`, softwareHouseId: 'sh', ...extra });
    fakes.push(f);
    await f.connect();
    await waitFor(() => sim.connectionsFor(`acc_${n}`) >= 1, `acc_${n} connected`);
    return f;
  };

  before(async () => {
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 80, pongTimeoutMs: 400, callTimeoutMs: 2_000 });
    for (const n of ['a', 'b', 'c', 'd']) sim.addAccount({ apiKey: `sk_${n}`, softwareHouseId: 'sh', accountId: `acc_${n}`, capabilities: ALL_TEST_CAPABILITIES });
  });

  after(async () => {
    for (const f of fakes) f.close();
    await sim.close();
  });

  it('drops one location or all of them', async () => {
    const a = await connect('a');
    const b = await connect('b');
    const r = await control('drop', { accountId: 'acc_a' });
    assert.equal(r.dropped, 1);
    await waitFor(() => a.closed, 'a closed');
    assert.equal(a.closeCode, 1012);
    await sleep(50);
    assert.equal(b.closed, false, 'b untouched');
    const a2 = await connect('a');
    assert.equal(sim.dropConnections(undefined, { terminate: true }), 2);
    await waitFor(() => a2.closed && b.closed, 'all closed');
    assert.equal(a2.closeCode, 1006, 'terminate closes without a close frame');
    await waitFor(() => sim.connectionsFor('acc_a') + sim.connectionsFor('acc_b') === 0, 'counters at zero');
  });

  it('pauses and delays pings', async () => {
    const f = await connect('c');
    await waitFor(() => f.pings >= 2, 'pings flowing');
    await control('pings', { paused: true });
    await sleep(120);
    const frozen = f.pings;
    await sleep(300);
    assert.equal(f.pings, frozen, 'no pings while paused');
    await control('pings', { paused: false, delayMs: 150 });
    const t0 = Date.now();
    await waitFor(() => f.pings > frozen, 'pings resume');
    assert.ok(Date.now() - t0 >= 140, 'the first ping after resuming is delayed');
    sim.setPings({ delayMs: 0 });
    f.close();
  });

  it('terminates an EPOS that stops answering pings', async () => {
    const f = await connect('d', { autoPong: false });
    await waitFor(() => f.closed, 'terminated for missing pongs', 3_000);
    assert.ok(f.pings >= 2);
  });

  it('stops answering the EPOS pings with pongs when told to', async () => {
    const f = await connect('a');
    f.socket.ping();
    await waitFor(() => f.pongs === 1, 'pong answered');
    await control('pongs', { answer: false });
    f.socket.ping();
    await sleep(300);
    assert.equal(f.pongs, 1, 'no pong while switched off');
    sim.answerPongs(true);
    f.socket.ping();
    await waitFor(() => f.pongs === 2, 'pongs back');
    f.close();
  });

  it('sends malformed and unknown messages', async () => {
    const f = await connect('b');
    await control('send', { accountId: 'acc_b', kind: 'malformed' });
    await waitFor(() => f.frames.length === 1, 'malformed frame received');
    assert.throws(() => JSON.parse(f.frames[0]!));
    await waitFor(() => sim.strayFrames.some((s) => s.accountId === 'acc_b' && /Parse error/.test(s.text)), 'EPOS parse error recorded as stray');
    const r = await control('send', { accountId: 'acc_b', kind: 'unknown-method', method: 'FrobnicateV7' });
    assert.equal(r.reply.error.errorType, 'InvalidRequest');
    assert.equal(f.received.at(-1)!.method, 'FrobnicateV7');
    // Through the normal path, an unknown method is never routed.
    await assert.rejects(sim.call('acc_b', 'FrobnicateV7', {}), /Dojo has no such method/);
    f.close();
  });

  it('sends a request twice with the same JSON-RPC id', async () => {
    const f = await connect('c');
    f.seedOrder('ord_1', 'T1', 1000);
    await control('misbehaviour', { duplicateRequests: true });
    try {
      const reply = (await sim.call('acc_c', 'GetOrderByIdV1', { orderId: 'ord_1' })) as any;
      assert.equal(reply.result.id, 'ord_1');
      await waitFor(() => f.received.length === 2, 'two copies received');
      assert.equal(f.received[0]!.id, f.received[1]!.id);
      await waitFor(() => sim.strayFrames.some((s) => s.accountId === 'acc_c' && s.reason === 'unmatched-reply'), 'second reply is stray');
    } finally {
      sim.duplicateRequests(false);
    }
    f.close();
  });

  it('sends webhooks twice and out of order', async () => {
    const got: { body: string; sig: string }[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        got.push({ body: Buffer.concat(chunks).toString(), sig: String(req.headers['dojo-signature']) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      const sub = await fetch(`${sim.url}/webhooks`, {
        method: 'POST',
        headers: { authorization: 'Basic sk_d', 'content-type': 'application/json', version: '2026-02-27' },
        body: JSON.stringify({ events: ['payment_intent.created', 'payment_intent.status_updated'], url }),
      });
      const secret = ((await sub.json()) as any).secrets[0].value as string;
      await control('misbehaviour', { duplicateWebhooks: true, webhooksOutOfOrder: true });
      const r = await sim.runFlow('events', { accountId: 'acc_d', channels: 'webhook', duplicates: false });
      assert.equal(r.status, 'SUCCESS', JSON.stringify(r.steps));
      const statuses = got.map((g) => JSON.parse(g.body).data.paymentStatus);
      assert.deepEqual(statuses, ['Created', 'Created', 'Captured', 'Captured', 'Authorized', 'Authorized']);
      for (const g of got) assert.equal(g.sig, dojoSignature(secret, g.body));
      const deliveries = (await (await fetch(`${sim.url}/_sandbox/webhook-deliveries?accountId=acc_d`)).json()) as any[];
      assert.equal(deliveries.length, 6);
      assert.ok(deliveries.every((d) => d.status === 204));
    } finally {
      await control('misbehaviour', { reset: true });
      await new Promise((r) => server.close(r));
    }
  });
});
