import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FlowResult, SandboxPaymentIntent } from '@app/dojo-sandbox';
import { dojoSignature, DojoSandbox } from '@app/dojo-sandbox';
import { waitFor } from '@app/testing';
import { FakeEpos } from './fake-epos';

const failedStep = (r: FlowResult) => r.steps.find((s) => s.status !== 'SUCCESS');
const explain = (r: FlowResult) => JSON.stringify(r.steps.map((s) => [s.name, s.status, s.additionalInformation]), null, 1);

describe('dojo sandbox: flows against a fake EPOS', () => {
  let sim: DojoSandbox;
  let epos: FakeEpos;
  let receiver: Server;
  let receiverUrl: string;
  const received: { body: string; signature: string }[] = [];
  const secret = 'PDYkJQq6sESYHp_zJuTTBQ';
  /** The receiver answers this many webhooks 500, then 200 again. */
  let failWebhooks = 0;

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['dojo-signature']) });
        const fail = failWebhooks > 0;
        if (fail) failWebhooks--;
        res.writeHead(fail ? 500 : 200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const addr = receiver.address() as { port: number };
    receiverUrl = `http://127.0.0.1:${addr.port}/dojo`;

    sim = await DojoSandbox.start({ port: 0, callTimeoutMs: 3_000 });
    sim.addAccount({ apiKey: 'sk_sandbox_flow', softwareHouseId: 'sh_test', accountId: 'acc_flow', webhookUrl: receiverUrl, webhookSecret: secret });
    epos = new FakeEpos({ wsUrl: sim.wsUrl, restUrl: sim.url, apiKey: 'sk_sandbox_flow', softwareHouseId: 'sh_test' });
    await epos.connect();
    await epos.register();
    epos.seedOrder('ord_1', 'T1', 2000);
    epos.seedOrder('ord_2', 'T2', 3000);
    epos.seedOrder('ord_3', 'T3', 4000);
    epos.seedOrder('ord_4', 'T4', 1000);
  });

  after(async () => {
    epos.close();
    await sim.close();
    await new Promise((r) => receiver.close(r));
  });

  it('lists its flows (GET /flows)', async () => {
    const flows = (await (await fetch(`${sim.url}/flows`)).json()) as { name: string; params: { name: string; required: boolean }[] }[];
    assert.deepEqual(flows.map((f) => f.name).sort(), ['bookings', 'connect-pay-at-table', 'events', 'online-payment', 'order-and-pay', 'pay-at-counter', 'pay-at-table']);
    assert.ok(flows.every((f) => f.params.some((p) => p.name === 'accountId' && p.required)));
  });

  it('pay-at-table runs green: search, get, lock, two payments (the second with a tip), unlock', async () => {
    const r = await sim.runFlow('pay-at-table', { accountId: 'acc_flow', tableId: 'T1' });
    assert.equal(r.status, 'SUCCESS', explain(r));
    assert.deepEqual(r.steps.map((s) => s.method), [
      'SearchOrdersV1', 'GetOrderByIdV1', 'CreateOrderLockV1', 'RecordOrderPaymentByIdV1', 'RecordOrderPaymentByIdV1', 'DeleteOrderLockV1',
    ]);
    assert.match(r.steps[2]!.additionalInformation[0]!, /^locked order ord_1 until \d\d:\d\d:\d\dZ$/);
    assert.equal(r.steps[3]!.additionalInformation[0]!, 'paid 10.00 GBP');
    assert.equal(r.steps[4]!.additionalInformation[0]!, 'paid 10.00 GBP + tip 2.00; order fully paid');
    assert.ok(r.steps.every((s) => s.finishedAt && typeof s.ms === 'number'));
    const order = epos.orders.get('ord_1')!;
    assert.equal(order.paidAmount.value, 2000);
    assert.equal(order.tipsAmount.value, 200);
    const payments = epos.received.filter((x) => x.method === 'RecordOrderPaymentByIdV1');
    assert.equal(payments[0]!.params.lockId, payments[1]!.params.lockId);
    assert.equal(payments[1]!.params.tipsAmount.value, 200);
  });

  it('order-and-pay and bookings run green', async () => {
    const op = await sim.runFlow('order-and-pay', { accountId: 'acc_flow', amount: 1234 });
    assert.equal(op.status, 'SUCCESS', explain(op));
    assert.deepEqual(op.steps.map((s) => s.method), ['CreateOrderV1', 'RecordOrderPaymentByIdV1']);
    assert.match(op.steps[1]!.additionalInformation[0]!, /paid 12.34 GBP; order ord_new_\d+ fully paid/);
    const b = await sim.runFlow('bookings', { accountId: 'acc_flow', tableId: 'T9' });
    assert.equal(b.status, 'SUCCESS', explain(b));
    assert.deepEqual(b.steps.map((s) => s.method), [
      'CreatePartyV1', 'GetPartyByIdV1', 'UpdatePartyV1', 'SearchPartiesV1', 'DeletePartyByIdV1', 'GetPartyByIdV1',
      'CreateReservationV1', 'GetReservationByIdV1', 'UpdateReservationV1', 'SearchReservationsV1', 'DeleteReservationByIdV1', 'GetReservationByIdV1',
    ]);
    assert.match(b.steps[5]!.additionalInformation[0]!, /^NotFound as expected/);
    assert.equal(epos.parties.size, 0);
    assert.equal(epos.reservations.size, 0);
  });

  it('events: signed webhooks and HandleEventV1 with a duplicate', async () => {
    received.length = 0;
    const before = epos.events.length;
    const r = await sim.runFlow('events', { accountId: 'acc_flow', paymentIntentId: 'pi_test_1' });
    assert.equal(r.status, 'SUCCESS', explain(r));
    assert.equal(received.length, 4, 'three events plus one duplicate by webhook');
    for (const d of received) assert.equal(d.signature, dojoSignature(secret, d.body), 'signature verifies');
    const bodies = received.map((d) => JSON.parse(d.body));
    assert.deepEqual(bodies.map((b) => b.data.paymentStatus), ['Created', 'Authorized', 'Captured', 'Created']);
    assert.equal(bodies[0].id, bodies[3].id, 'the duplicate has the same event id');
    assert.ok(bodies.every((b) => b.accountId === 'acc_flow' && b.data.paymentIntentId === 'pi_test_1'));
    const socketEvents = epos.events.slice(before);
    assert.equal(socketEvents.length, 4);
    assert.equal(socketEvents[0]!.id, socketEvents[3]!.id);
    assert.ok(r.steps.some((s) => /\(duplicate\)/.test(s.name)));
  });

  it('delivers an event again, with the same id, after its webhook answered 500 and after HandleEventV1 answered an error', async () => {
    received.length = 0;
    failWebhooks = 1;
    epos.failEvents = 1;
    const before = epos.events.length;
    const out = await sim.sendPaymentEvent('acc_flow', { data: { paymentIntentId: 'pi_redelivered' } });
    assert.deepEqual(received.map((r) => JSON.parse(r.body).id), [out.event.id, out.event.id], 'the webhook twice');
    assert.deepEqual(out.deliveries.map((d) => [d.attempt, d.status]), [[2, 200]]);
    assert.deepEqual(sim.webhookDeliveries.filter((d) => d.eventId === out.event.id).map((d) => [d.attempt, d.status]), [[1, 500], [2, 200]]);
    assert.ok(out.reply && 'result' in out.reply, JSON.stringify(out));
    const sends = epos.received.filter((r) => r.method === 'HandleEventV1' && r.params.id === out.event.id);
    assert.equal(sends.length, 2, 'HandleEventV1 twice');
    assert.notEqual(sends[0]!.id, sends[1]!.id, 'as a new request');
    assert.deepEqual(epos.events.slice(before).map((e) => e.id), [out.event.id], 'taken once');
  });

  it('delivers HandleEventV1 again once the EPOS has connected again', async () => {
    sim.addAccount({ apiKey: 'sk_sandbox_flow_b', softwareHouseId: 'sh_test', accountId: 'acc_flow_b' });
    const opts = { wsUrl: sim.wsUrl, restUrl: sim.url, apiKey: 'sk_sandbox_flow_b', softwareHouseId: 'sh_test' };
    const first = await new FakeEpos(opts).connect();
    await first.register();
    first.close();
    await waitFor(() => sim.connectionsFor('acc_flow_b') === 0 || undefined, 'the connection gone');
    const sending = sim.sendPaymentEvent('acc_flow_b', { data: { paymentIntentId: 'pi_reconnect' } }, { webhook: false });
    await new Promise((r) => setTimeout(r, 400));
    const second = await new FakeEpos(opts).connect();
    try {
      const out = await sending;
      assert.ok(out.reply && 'result' in out.reply, JSON.stringify(out));
      assert.deepEqual(second.events.map((e) => e.id), [out.event.id]);
    } finally {
      second.close();
    }
  });

  it('close() stops redelivering at once', async () => {
    const failing = createServer((req, res) => req.resume().on('end', () => res.writeHead(503).end()));
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', () => r()));
    const quick = await DojoSandbox.start({ port: 0 });
    const closing = { done: false };
    try {
      quick.addAccount({ apiKey: 'sk_sandbox_c', softwareHouseId: 'sh', accountId: 'acc_c', webhookUrl: `http://127.0.0.1:${(failing.address() as { port: number }).port}/hook`, webhookSecret: secret });
      quick.emitIntentEvents({ id: 'pi_closing', accountId: 'acc_c', captureMode: 'Auto' } as SandboxPaymentIntent, ['Authorized']);
      await waitFor(() => quick.webhookDeliveries.length > 0 || undefined, 'the first attempt');
      const t0 = Date.now();
      closing.done = true;
      await quick.close();
      assert.ok(Date.now() - t0 < 1_000, `close() took ${Date.now() - t0} ms`);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(quick.webhookDeliveries.map((d) => [d.attempt, d.status]), [[1, 503]], 'no attempt after close()');
    } finally {
      if (!closing.done) await quick.close();
      await new Promise((r) => failing.close(r));
    }
  });

  it('close() ends a flow that waits on an outside call (the venue API) at once', async () => {
    // A venue API that never answers: the pay-at-counter flow's first step waits on it (up to 15 s per call).
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const quick = await DojoSandbox.start({ port: 0 });
    const closing = { done: false };
    try {
      quick.addAccount({ apiKey: 'sk_sandbox_ctr', softwareHouseId: 'sh', accountId: 'acc_ctr' });
      const venueApi = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const id = quick.startFlow('pay-at-counter', { accountId: 'acc_ctr', venueApi, locationId: 'loc', venueToken: 'vt_x' });
      await waitFor(() => (quick.getFlow(id)?.steps[0]?.status === 'IN_PROGRESS' ? true : undefined), 'the flow waiting on the venue API');
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      closing.done = true;
      await quick.close();
      assert.ok(Date.now() - t0 < 3_000, `close() took ${Date.now() - t0} ms`);
      const r = quick.getFlow(id)!;
      assert.equal(r.status, 'FAILURE', explain(r));
      assert.deepEqual(r.steps.map((x) => [x.name, x.status, x.additionalInformation[0]]), [['terminals (venue API)', 'FAILURE', 'the sandbox is closing']]);
    } finally {
      if (!closing.done) await quick.close();
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('runs a flow over HTTP: POST /flows returns an id, GET /flows/{id} shows per-step status', async () => {
    const res = await fetch(`${sim.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flow: 'pay-at-table', params: { accountId: 'acc_flow', tableId: 'T2', lock: 'false' } }),
    });
    assert.equal(res.status, 200);
    const id = (await res.json()) as string;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const done = await waitFor(async () => {
      const f = (await (await fetch(`${sim.url}/flows/${id}`)).json()) as FlowResult;
      return f.status !== 'IN_PROGRESS' ? f : undefined;
    }, 'flow to finish');
    assert.equal(done.status, 'SUCCESS', explain(done));
    assert.equal(done.flowID, id);
    assert.equal(done.flowName, 'pay-at-table');
    assert.ok(!done.steps.some((s) => s.method === 'CreateOrderLockV1'), 'lock=false skips the lock');
    assert.equal((await fetch(`${sim.url}/flows/00000000-0000-0000-0000-000000000000`)).status, 404);
    const bad = await fetch(`${sim.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: 'pay-at-table', params: {} }) });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${sim.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: 'nope' }) })).status, 400);
  });

  it('a contract-breaking reply fails the flow, naming the method and the field', async () => {
    epos.corrupt = (method, reply) => {
      if (method === 'GetOrderByIdV1' && reply.result) reply.result.totalAmount.value = '40.00';
      return reply;
    };
    try {
      const r = await sim.runFlow('pay-at-table', { accountId: 'acc_flow', tableId: 'T3' });
      assert.equal(r.status, 'FAILURE');
      const step = failedStep(r)!;
      assert.equal(step.name, 'GetOrderByIdV1');
      assert.match(step.additionalInformation[0]!, /GetOrderByIdV1/);
      assert.match(step.additionalInformation[0]!, /result\.totalAmount\.value/);
      assert.match(step.additionalInformation[0]!, /integer/);
      assert.ok(!r.steps.some((s) => s.method === 'CreateOrderLockV1'), 'the flow stops at the failure');
    } finally {
      epos.corrupt = undefined;
    }
    // A missing required field is named too.
    epos.corrupt = (method, reply) => {
      if (method === 'RecordOrderPaymentByIdV1' && reply.result) delete reply.result.status;
      return reply;
    };
    try {
      const r = await sim.runFlow('order-and-pay', { accountId: 'acc_flow' });
      assert.equal(r.status, 'FAILURE');
      assert.match(failedStep(r)!.additionalInformation[0]!, /RecordOrderPaymentByIdV1 response breaks the contract: result\.status is required/);
    } finally {
      epos.corrupt = undefined;
    }
  });

  it('pay-at-table fails when the search answers an order at another table, or one that is not payable', async () => {
    epos.seedOrder('ord_6', 'T6', 1800);
    const cases: Array<[string, (order: Record<string, any>) => void, RegExp]> = [
      ['another table', (o) => (o.details = { orderType: 'DineIn', dineIn: { tableId: 'T9' } }), /order ord_6 is at table T9, not at table T6/],
      ['no table', (o) => (o.details = { orderType: 'Collection', collection: { asap: true } }), /order ord_6 is at no table, not at table T6/],
      ['not payable', (o) => (o.payable = false), /order ord_6 is not payable \(payable false\)/],
    ];
    for (const [what, change, message] of cases) {
      epos.corrupt = (method, reply) => {
        if (method === 'SearchOrdersV1' && reply.result) for (const o of reply.result.data) change(o);
        return reply;
      };
      try {
        const r = await sim.runFlow('pay-at-table', { accountId: 'acc_flow', tableId: 'T6' });
        assert.equal(r.status, 'FAILURE', `${what}: ${explain(r)}`);
        assert.equal(failedStep(r)!.name, 'SearchOrdersV1', what);
        assert.match(failedStep(r)!.additionalInformation[0]!, message, what);
        assert.equal(r.steps.length, 1, `${what}: the flow stops at the search`);
      } finally {
        epos.corrupt = undefined;
      }
    }
    assert.equal(epos.orders.get('ord_6')!.paidAmount.value, 0, 'nothing was paid');
  });

  it('order-and-pay fails when the payment\'s answer is another order, lacks its amounts, or is still payable', async () => {
    const cases: Array<[string, (order: Record<string, any>) => void, RegExp]> = [
      ['another order', (o) => (o.id = 'ord_someone_else'), /paid order ord_new_\d+ but the reply is order ord_someone_else/],
      ['no amounts', (o) => { delete o.paidAmount; delete o.totalAmount; }, /order ord_new_\d+ has no totalAmount/],
      ['no paidAmount', (o) => delete o.paidAmount, /order ord_new_\d+ has no paidAmount/],
      ['still payable', (o) => (o.payable = true), /order ord_new_\d+ is fully paid but payable is true/],
    ];
    for (const [what, change, message] of cases) {
      epos.corrupt = (method, reply) => {
        if (method === 'RecordOrderPaymentByIdV1' && reply.result) change(reply.result);
        return reply;
      };
      try {
        const r = await sim.runFlow('order-and-pay', { accountId: 'acc_flow' });
        assert.equal(r.status, 'FAILURE', `${what}: ${explain(r)}`);
        assert.equal(failedStep(r)!.name, 'RecordOrderPaymentByIdV1', what);
        assert.match(failedStep(r)!.additionalInformation[0]!, message, what);
      } finally {
        epos.corrupt = undefined;
      }
    }
  });

  it('online-payment fails at once when the order read back is another order, lacks its amounts, breaks the contract or is an error', async () => {
    epos.seedOrder('ord_op', 'T7', 2000);
    // The venue API and the checkout page, as far as the flow reaches them before reading the order over the socket.
    const venueApi = createServer((req, res) => {
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      req.resume();
      if (req.method === 'GET' && req.url === '/venue/v1/locations/loc_op/payment-intents/pi_op') {
        json(200, { id: 'pi_op', orderId: 'ord_op', amount: 2000, currency: 'GBP', status: 'Created', checkoutUrl: `http://127.0.0.1:${(venueApi.address() as { port: number }).port}/checkout/pi_op` });
      } else if (req.method === 'POST' && req.url === '/checkout/pi_op/pay') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>Payment successful</p>');
      } else if (req.method === 'POST' && req.url === '/venue/v1/locations/loc_op/payment-intents/pi_op/refunds') {
        json(200, { id: 'rf_op' });
      } else json(404, {});
    });
    await new Promise<void>((r) => venueApi.listen(0, '127.0.0.1', () => r()));
    const params = { accountId: 'acc_flow', venueApi: `http://127.0.0.1:${(venueApi.address() as { port: number }).port}`, locationId: 'loc_op', venueToken: 'vt_op', paymentIntentId: 'pi_op' };
    const order = (change: (o: Record<string, any>) => void) => (reply: Record<string, any>) => {
      if (reply.result) change(reply.result);
      return reply;
    };
    const cases: Array<[string, (reply: Record<string, any>) => Record<string, any>, RegExp]> = [
      ['another order', order((o) => (o.id = 'ord_someone_else')), /asked for order ord_op, got ord_someone_else/],
      ['no amounts', order((o) => { delete o.paidAmount; delete o.totalAmount; o.payable = false; }), /order ord_op has no totalAmount, no paidAmount/],
      ['no payable', order((o) => { o.paidAmount = o.totalAmount; delete o.payable; }), /order ord_op has no payable/],
      ['a contract violation', order((o) => (o.paidAmount = { ...o.totalAmount, value: 'all of it' })), /GetOrderByIdV1 response breaks the contract: result\.paidAmount\.value .*integer/],
      [
        'an error reply',
        (reply) => ({ jsonrpc: '2.0', id: reply.id, error: { code: -32004, message: 'NotFound', errorType: 'NotFound', debugMessage: 'no order ord_op here', traceId: 't' } }),
        /GetOrderByIdV1 returned NotFound: no order ord_op here/,
      ],
    ];
    try {
      for (const [what, change, message] of cases) {
        epos.corrupt = (method, reply) => (method === 'GetOrderByIdV1' ? change(reply) : reply);
        const started = Date.now();
        const r = await sim.runFlow('online-payment', params);
        assert.equal(r.status, 'FAILURE', `${what}: ${explain(r)}`);
        assert.equal(failedStep(r)!.name, 'order paid (GetOrderByIdV1)', `${what}: ${explain(r)}`);
        assert.match(failedStep(r)!.additionalInformation[0]!, message, what);
        assert.ok(Date.now() - started < 5_000, `${what}: failed at the first read, not at the step's time limit`);
      }
    } finally {
      epos.corrupt = undefined;
      await new Promise((r) => venueApi.close(r));
    }
  });

  it('bookings fails when a deleted party or reservation is still there', async () => {
    for (const kind of ['party', 'reservation'] as const) {
      epos.keepDeleted.add(kind);
      try {
        const r = await sim.runFlow('bookings', { accountId: 'acc_flow', tableId: 'T8' });
        assert.equal(r.status, 'FAILURE', explain(r));
        const method = kind === 'party' ? 'GetPartyByIdV1' : 'GetReservationByIdV1';
        assert.equal(failedStep(r)!.name, `${method} (deleted)`, explain(r));
        assert.match(failedStep(r)!.additionalInformation[0]!, new RegExp(`${method} should have answered NotFound but returned a result`));
      } finally {
        epos.keepDeleted.clear();
        epos.parties.clear();
        epos.reservations.clear();
      }
    }
  });

  it('a reply that never comes makes the step TIMED_OUT', async () => {
    const quiet = await DojoSandbox.start({ port: 0, callTimeoutMs: 200 });
    try {
      quiet.addAccount({ apiKey: 'sk_q', softwareHouseId: 'sh', accountId: 'acc_q', capabilities: ['SearchOrders'] });
      const { WebSocket } = await import('ws');
      const ws = new WebSocket(quiet.wsUrl, { headers: { authorization: 'Basic sk_q', 'software-house-id': 'sh' } });
      await new Promise((r) => ws.once('open', r));
      const r = await quiet.runFlow('pay-at-table', { accountId: 'acc_q' });
      assert.equal(r.status, 'TIMED_OUT');
      assert.match(failedStep(r)!.additionalInformation[0]!, /SearchOrdersV1 timed out/);
      ws.terminate();
    } finally {
      await quiet.close();
    }
  });

  it('scripts/flow.ts prints each step and exits 0 on success', async () => {
    epos.seedOrder('ord_5', 'T5', 2500);
    const script = join(__dirname, '../../../scripts/flow.js');
    const { stdout } = await promisify(execFile)(process.execPath, [script, 'pay-at-table', '--sandbox', sim.url, '--account', 'acc_flow', '--table', 'T5'], { timeout: 20_000 });
    assert.match(stdout, /CreateOrderLockV1 .* locked order ord_5 until/);
    assert.match(stdout, /paid 12\.50 GBP \+ tip 2\.50; order fully paid/);
    assert.match(stdout, /SUCCESS/);
    // A failing flow exits non-zero.
    await assert.rejects(
      promisify(execFile)(process.execPath, [script, 'pay-at-table', '--sandbox', sim.url, '--account', 'acc_flow', '--table', 'T404'], { timeout: 20_000 }),
      (e: { code?: number; stdout?: string }) => e.code === 1 && /no payable order at table T404/.test(e.stdout ?? ''),
    );
  });
});
