import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { RunningApp } from '@app/common';
import { ALL_CAPABILITIES } from '@app/contracts';
import type { DojoEventPayload } from '@app/contracts';
import { DojoSandbox, TEST_CARDS } from '@app/dojo-sandbox';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, seededRandom, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startGateway } from '../../../apps/gateway/src/main';
import { startWebhook } from '../../../apps/webhook/src/main';
import { startWorker } from '../../../apps/worker/src/main';
import { sampleOrder } from '../admin/support/helpers';

const TOKEN = 'operator-token-online-payments-01';
const SECRET_A = 'whsec_online_payments_secret_A_0001';

/**
 * Online payments through the real apps (admin, webhook, worker, gateway),
 * Redis, Postgres and the Dojo sandbox: intents created through the venue API,
 * paid at the sandbox's checkout, settled on the order by Dojo's events by
 * webhook and over the socket (shuffled, duplicated), by the reconciler when
 * the events are lost, and counted once beside a card machine's payment.
 */
describe('online payments', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let sim: DojoSandbox;
  let admin: RunningApp;
  let worker: RunningApp;
  let gateway: RunningApp;
  let webhook: RunningApp;
  let a: LocationFixture;
  let b: LocationFixture;
  let tokenA = '';
  let tokenB = '';
  let n = 0;
  const key = () => `key-${++n}-${Date.now().toString(36)}`;

  const call = async (method: string, path: string, o: { token?: string; body?: unknown; key?: string } = {}) => {
    const res = await fetch(`${admin.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${o.token ?? tokenA}`,
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(o.key ? { 'idempotency-key': o.key } : {}),
      },
      body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  const venue = (loc: LocationFixture) => `/venue/v1/locations/${loc.id}`;
  const createIntent = async (orderId: string, body: Record<string, unknown> = {}, loc = a) => {
    const r = await call('POST', `${venue(loc)}/orders/${orderId}/payment-intents`, { body, key: key(), token: loc === a ? tokenA : tokenB });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const order = async (orderId: string) => (await call('GET', `${venue(a)}/orders/${orderId}`)).body;
  const payAtCheckout = async (url: string, card: string = TEST_CARDS.success, tips?: number) => {
    const form = new URLSearchParams({ cardNumber: card, expiry: '12/30', cvc: '123', ...(tips !== undefined ? { tips: String(tips) } : {}) });
    const res = await fetch(`${url}/pay`, { method: 'POST', body: form });
    return { status: res.status, text: await res.text() };
  };
  const paymentsOf = (orderId: string) => db.prisma.payment.findMany({ where: { locationId: a.id, orderId } });
  const paidIs = (orderId: string, paid: number) =>
    waitFor(async () => ((await order(orderId)).paidAmount === paid ? true : undefined), `order ${orderId} paid ${paid}`, 20_000);

  before(async () => {
    db = await createTestDatabase('online');
    fx = fixtures(db.prisma);
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 2_000 });
    const sh = await fx.softwareHouse();
    a = await fx.location({ softwareHouseId: sh.id, name: 'Online Arms', webhookSecrets: [SECRET_A] });
    b = await fx.location({ softwareHouseId: sh.id, name: 'Other Inn' });
    await db.prisma.location.updateMany({ data: { registrationState: 'registered', capabilities: ALL_CAPABILITIES } });
    const env = appEnv(db, {
      QUEUE_PREFIX: uniquePrefix('online'),
      ADMIN_OPERATOR_TOKENS: TOKEN,
      DOJO_WS_URL: sim.wsUrl,
      DOJO_API_URL: sim.url,
      DOJO_CHECKOUT_URL: sim.checkoutBase,
      PAYMENT_INTENT_CHECK_AFTER_MS: '1500',
      PAYMENT_INTENT_CHECK_MAX_MS: '3000',
      PAYMENT_INTENT_RECONCILE_INTERVAL_MS: '200',
      EVENTS_SWEEP_INTERVAL_MS: '250',
      EVENTS_SWEEP_AFTER_MS: '1000',
      GATEWAY_AUTH_BACKOFF_MS: '500',
    });
    webhook = await startWebhook(env);
    sim.addAccount({
      apiKey: a.apiKey, softwareHouseId: sh.dojoSoftwareHouseId, accountId: a.dojoAccountId, capabilities: ALL_CAPABILITIES,
      webhookUrl: `${webhook.url}/webhooks/dojo`, webhookSecret: SECRET_A,
    });
    sim.addAccount({ apiKey: b.apiKey, softwareHouseId: sh.dojoSoftwareHouseId, accountId: b.dojoAccountId, capabilities: ALL_CAPABILITIES });
    admin = await startAdmin(env);
    worker = await startWorker(env);
    gateway = await startGateway(env);
    const issue = async (loc: LocationFixture) => {
      const res = await fetch(`${admin.url}/v1/locations/${loc.id}/venue-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pos' }),
      });
      return ((await res.json()) as { token: string }).token;
    };
    tokenA = await issue(a);
    tokenB = await issue(b);
    await waitFor(() => sim.connectionsFor(a.dojoAccountId) === 1 || undefined, 'the gateway connected venue A', 20_000);
  });

  after(async () => {
    await gateway?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await webhook?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await db?.drop();
  });

  it('creates an intent for the outstanding amount, pays it at the checkout, and records one payment on the order', async () => {
    const o = await fx.order(a.id, { total: 4200 });
    const pi = await createIntent(o.id, { tipsAllowed: true });
    assert.equal(pi.amount, 4200);
    assert.equal(pi.currency, 'GBP');
    assert.equal(pi.status, 'Created');
    assert.equal(pi.checkoutUrl, `${sim.checkoutBase}/${pi.id}`);
    assert.match(pi.qr.svg, /^<svg[\s\S]*<\/svg>\s*$/);
    assert.match(pi.qr.pngDataUrl, /^data:image\/png;base64,/);
    assert.equal(sim.paymentIntents.get(a.dojoAccountId, pi.id).reference, o.id);

    const page = await fetch(pi.checkoutUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /42\.00 GBP/);
    const paid = await payAtCheckout(pi.checkoutUrl);
    assert.match(paid.text, /Payment successful/);

    await paidIs(o.id, 4200);
    const view = await order(o.id);
    assert.equal(view.payable, false);
    assert.equal(view.outstandingAmount, 0);
    assert.deepEqual(view.payments.map((p: any) => [p.paymentIntentId, p.paidAmount, p.state]), [[pi.id, 4200, 'Recorded']]);
    const list = (await call('GET', `${venue(a)}/orders/${o.id}/payment-intents`)).body.items;
    await waitFor(async () => ((await call('GET', `${venue(a)}/orders/${o.id}/payment-intents`)).body.items[0].status === 'Captured' ? true : undefined), 'intent Captured');
    assert.equal(list.length, 1);
    // The feed shows an entry once every older transaction on the server has ended (other test files' too): read until it does.
    let feed: any;
    const recordedIn = (f: any) => (f.entries ?? f.items ?? []).filter((e: any) => e.kind === 'payment.recorded' && e.entityId === o.id);
    await waitFor(async () => {
      feed = (await call('GET', `${venue(a)}/feed?limit=1000`)).body;
      return recordedIn(feed).length > 0 || undefined;
    }, 'payment.recorded in the feed');
    assert.equal(recordedIn(feed).length, 1, JSON.stringify(feed).slice(0, 500));
    await waitFor(() => sim.posEvents.some((e) => e.accountId === a.dojoAccountId && (e.event as { orderId?: string }).orderId === o.id) || undefined, 'OrderUpdated sent to Dojo');
  });

  it('settles by webhook only, by socket only, and by both shuffled with duplicates: one payment each', async () => {
    const rnd = seededRandom(Number(process.env.FUZZ_SEED ?? 1414));
    const cases: Array<{ channels: Array<'webhook' | 'socket'>; orderId: string; pi: string }> = [];
    for (const channels of [['webhook'], ['socket'], ['webhook', 'socket']] as Array<Array<'webhook' | 'socket'>>) {
      const o = await fx.order(a.id, { total: 1500 });
      const pi = await createIntent(o.id);
      cases.push({ channels, orderId: o.id, pi: pi.id });
    }
    sim.loseIntentEvents(true);
    try {
      for (const c of cases) assert.deepEqual(sim.paymentIntents.pay(c.pi, TEST_CARDS.success, undefined).changes, ['Authorized', 'Captured']);
    } finally {
      sim.loseIntentEvents(false);
    }
    for (const c of cases) {
      const ev = (status: string, i: number): DojoEventPayload => ({
        id: `evt_${c.pi}_${status}`, event: 'payment_intent.status_updated', accountId: a.dojoAccountId,
        createdAt: new Date(Date.now() + i).toISOString(), data: { paymentIntentId: c.pi, paymentStatus: status, captureMode: 'Auto' },
      });
      const deliveries: Array<{ e: DojoEventPayload; ch: 'webhook' | 'socket' }> = [];
      for (const e of [ev('Authorized', 0), ev('Captured', 1)]) for (const ch of c.channels) deliveries.push({ e, ch }, { e, ch });
      // Shuffle (Fisher-Yates with the seeded source): Captured may come first, duplicates anywhere.
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
      }
      await Promise.all(deliveries.map((d) => sim.sendPaymentEvent(a.dojoAccountId, d.e, { webhook: d.ch === 'webhook', socket: d.ch === 'socket' })));
    }
    for (const c of cases) {
      await paidIs(c.orderId, 1500);
      assert.equal((await paymentsOf(c.orderId)).length, 1);
      // Every delivery was acknowledged (stored) above; the events worker applies them on its own time.
      const where = { locationId: a.id, paymentIntentId: c.pi, eventId: { startsWith: `evt_${c.pi}_` } };
      await waitFor(async () => ((await db.prisma.dojoEvent.count({ where: { ...where, state: { not: 'applied' } } })) === 0 ? true : undefined), 'both events applied');
      const rows = await db.prisma.dojoEvent.findMany({ where });
      assert.equal(rows.length, 2, 'Authorized and Captured, each stored once however often delivered');
      assert.ok(rows.every((r) => r.state === 'applied' && r.deliveries === 2 * c.channels.length), JSON.stringify(rows.map((r) => [r.state, r.deliveries])));
      assert.ok(rows.every((r) => c.channels.includes(r.channel as 'webhook' | 'socket')));
    }
  });

  it('stores once an event whose webhook first answered 500, and one sent over a socket that had just dropped (Dojo delivers at least once)', async () => {
    // In front of the webhook app: the first delivery of an event named here is answered 500 without reaching it.
    const failOnce = new Set<string>();
    const front = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failOnce.delete(String(JSON.parse(Buffer.concat(chunks).toString('utf8')).id))) return void res.writeHead(500).end();
        fetch(`${webhook.url}/webhooks/dojo`, { method: 'POST', headers: { 'content-type': 'application/json', 'dojo-signature': String(req.headers['dojo-signature']) }, body: Buffer.concat(chunks) })
          .then(async (r) => res.writeHead(r.status).end(await r.text()))
          .catch(() => res.writeHead(502).end());
      });
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    const account = sim.accounts.get(a.dojoAccountId)!;
    const direct = account.webhookUrl;
    account.webhookUrl = `http://127.0.0.1:${(front.address() as { port: number }).port}/webhooks/dojo`;
    try {
      const o = await fx.order(a.id, { total: 1200 });
      const pi = await createIntent(o.id);
      sim.loseIntentEvents(true);
      try {
        assert.deepEqual(sim.paymentIntents.pay(pi.id, TEST_CARDS.success, undefined).changes, ['Authorized', 'Captured']);
      } finally {
        sim.loseIntentEvents(false);
      }
      const ev = (status: string, i: number): DojoEventPayload => ({
        id: `evt_again_${pi.id}_${status}`, event: 'payment_intent.status_updated', accountId: a.dojoAccountId,
        createdAt: new Date(Date.now() + i).toISOString(), data: { paymentIntentId: pi.id, paymentStatus: status, captureMode: 'Auto' },
      });
      failOnce.add(ev('Authorized', 0).id);
      const byWebhook = await sim.sendPaymentEvent(a.dojoAccountId, ev('Authorized', 0), { socket: false });
      assert.deepEqual(byWebhook.deliveries.map((d) => [d.attempt, d.status]), [[2, 200]]);
      // The gateway's socket drops just before the event goes: it is sent once the gateway has dialled again.
      sim.dropConnections(a.dojoAccountId);
      const bySocket = await sim.sendPaymentEvent(a.dojoAccountId, ev('Captured', 1), { webhook: false });
      assert.ok(bySocket.reply && 'result' in bySocket.reply, JSON.stringify(bySocket));
      const where = { locationId: a.id, eventId: { startsWith: `evt_again_${pi.id}_` } };
      await waitFor(async () => ((await db.prisma.dojoEvent.count({ where: { ...where, state: 'applied' } })) === 2 ? true : undefined), 'both events applied');
      const rows = await db.prisma.dojoEvent.findMany({ where, orderBy: { occurredAt: 'asc' } });
      assert.deepEqual(rows.map((r) => [r.paymentStatus, r.channel, r.deliveries]), [['Authorized', 'webhook', 1], ['Captured', 'socket', 1]]);
      await paidIs(o.id, 1200);
      assert.equal((await paymentsOf(o.id)).length, 1);
    } finally {
      account.webhookUrl = direct;
      await new Promise((r) => front.close(r));
      await waitFor(() => sim.connectionsFor(a.dojoAccountId) === 1 || undefined, 'the gateway connected venue A again', 20_000);
    }
  });

  it('splits an order into partial intents, refuses one that over-asks, and is paid once both are', async () => {
    const o = await fx.order(a.id, { total: 5000 });
    const first = await createIntent(o.id, { amount: 2000 });
    const rest = await createIntent(o.id);
    assert.equal(rest.amount, 3000);
    const over = await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: {}, key: key() });
    assert.equal(over.status, 409);
    assert.match(over.body.message, /already cover/);
    const tooMuch = await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: { amount: 1 }, key: key() });
    assert.equal(tooMuch.status, 409);
    await payAtCheckout(first.checkoutUrl);
    await paidIs(o.id, 2000);
    assert.equal((await order(o.id)).payable, true);
    await payAtCheckout(rest.checkoutUrl);
    await paidIs(o.id, 5000);
    assert.equal((await order(o.id)).payable, false);
    assert.equal((await paymentsOf(o.id)).length, 2);
  });

  const feedOf = async (entityId: string, kind: string) => {
    const feed = (await call('GET', `${venue(a)}/feed?limit=1000`)).body;
    return ((feed.entries ?? feed.items ?? []) as any[]).filter((e) => e.kind === kind && e.entityId === entityId);
  };
  const eventsSettled = (pi: string) =>
    waitFor(async () => ((await db.prisma.dojoEvent.count({ where: { locationId: a.id, paymentIntentId: pi, state: { not: 'applied' } } })) === 0 ? true : undefined), `events of ${pi} applied`, 20_000);
  /** Refunded status events for `pi`, each twice on each channel, shuffled with the seeded source. */
  const deliverRefunded = async (pi: string, ids: string[], seed: number) => {
    const rnd = seededRandom(seed);
    const deliveries: Array<{ e: DojoEventPayload; ch: 'webhook' | 'socket' }> = [];
    ids.forEach((id, i) => {
      const e: DojoEventPayload = {
        id, event: 'payment_intent.status_updated', accountId: a.dojoAccountId,
        createdAt: new Date(Date.now() + i).toISOString(), data: { paymentIntentId: pi, paymentStatus: 'Refunded', captureMode: 'Auto' },
      };
      for (const ch of ['webhook', 'socket'] as const) deliveries.push({ e, ch }, { e, ch });
    });
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    await Promise.all(deliveries.map((d) => sim.sendPaymentEvent(a.dojoAccountId, d.e, { webhook: d.ch === 'webhook', socket: d.ch === 'socket' })));
  };
  const paymentView = async (orderId: string) => (await order(orderId)).payments[0];
  /** An order of 2,000 paid in full at checkout, the intent Captured and its events applied. */
  const paidOnline = async () => {
    const o = await fx.order(a.id, { total: 2000 });
    const pi = await createIntent(o.id);
    await payAtCheckout(pi.checkoutUrl);
    await paidIs(o.id, 2000);
    await waitFor(async () => ((await call('GET', `${venue(a)}/payment-intents/${pi.id}`)).body.status === 'Captured' ? true : undefined), 'Captured');
    await eventsSettled(pi.id);
    return { o, pi };
  };

  it('refunds half through the venue API: the order is paid the other half and payable for the refunded one; the rest undoes it', async () => {
    const { o, pi } = await paidOnline();
    const k = key();
    const refund = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 1000, reason: 'cold soup' }, key: k });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    assert.equal(refund.body.refundedAmount, 1000);
    const again = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 1000, reason: 'cold soup' }, key: k });
    assert.equal(again.status, 200);
    assert.equal(sim.paymentIntents.get(a.dojoAccountId, pi.id).refundedAmount, 1000, 'a repeated key refunds once');
    const reused = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 10, reason: 'other' }, key: k });
    assert.equal(reused.status, 409);

    // Settled at once by the venue API; then Dojo's Refunded events (webhook and socket) and more duplicates, shuffled, change nothing.
    let view = await order(o.id);
    assert.equal(view.paidAmount, 1000);
    assert.equal(view.outstandingAmount, 1000);
    assert.equal(view.payable, true);
    const { intentStatus: _status, ...half } = await paymentView(o.id);
    assert.deepEqual(half, { paymentIntentId: pi.id, paidAmount: 1000, tipsAmount: 0, capturedAmount: 2000, capturedTipsAmount: 0, refundedAmount: 1000, state: 'Recorded' });
    await waitFor(async () => ((await paymentView(o.id)).intentStatus === 'Refunded' ? true : undefined), 'the Refunded event applied');
    await deliverRefunded(pi.id, [`evt_${pi.id}_refunded_a`, `evt_${pi.id}_refunded_b`], 1401);
    await eventsSettled(pi.id);
    view = await order(o.id);
    assert.equal(view.paidAmount, 1000, 'the refund is counted once however many Refunded events come');
    assert.equal(view.payable, true);
    assert.equal((await paymentView(o.id)).refundedAmount, 1000);
    const refundsIn = async () => (await feedOf(pi.id, 'payment.updated')).filter((e) => e.data.refundedAmount !== e.data.previousRefundedAmount);
    await waitFor(async () => ((await refundsIn()).length > 0 ? true : undefined), 'the refund in the feed');
    const updates = await refundsIn();
    assert.deepEqual(updates.map((e) => [e.data.previousRefundedAmount, e.data.refundedAmount]), [[0, 1000]], 'one change of the refunded amount in the feed');

    // Payable for the refunded half: a new intent asks for exactly that.
    const more = await createIntent(o.id);
    assert.equal(more.amount, 1000);
    assert.equal((await call('POST', `${venue(a)}/payment-intents/${more.id}/cancel`)).status, 200);

    // The other half: a full refund undoes the payment (Dojo sends no status event, the status stays Refunded).
    const rest = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { reason: 'still cold' }, key: key() });
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal(rest.body.refundedAmount, 2000);
    view = await order(o.id);
    assert.equal(view.paidAmount, 0);
    assert.equal(view.outstandingAmount, 2000);
    assert.equal(view.payable, true);
    assert.deepEqual(await paymentView(o.id), {
      paymentIntentId: pi.id, paidAmount: 0, tipsAmount: 0, capturedAmount: 2000, capturedTipsAmount: 0, refundedAmount: 2000, state: 'Refunded', intentStatus: 'Refunded',
    });
    await deliverRefunded(pi.id, [`evt_${pi.id}_refunded_c`], 1402);
    await eventsSettled(pi.id);
    assert.equal((await order(o.id)).paidAmount, 0);
    const posEvents = await db.prisma.outboxEvent.count({ where: { locationId: a.id, eventType: 'OrderUpdated', entityId: o.id } });
    assert.equal(posEvents, 3, 'OrderUpdated for the payment and each refund, none for the repeated events');
  });

  it('settles a refund Dojo accepted but the order did not take (settlement failed) when the client retries its key', async () => {
    const { o, pi } = await paidOnline();
    const first = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 500, reason: 'first' }, key: key() });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    await waitFor(async () => ((await paymentView(o.id)).intentStatus === 'Refunded' ? true : undefined), 'the Refunded event applied');
    await eventsSettled(pi.id);
    // Refunded is final: the reconciler stops looking, so only the retry below can settle the second refund.
    await waitFor(async () => ((await db.prisma.paymentIntent.findFirstOrThrow({ where: { locationId: a.id, paymentIntentId: pi.id } })).nextCheckAt === null ? true : undefined), 'the reconciler done');
    assert.equal((await order(o.id)).paidAmount, 1500);

    // The second (partial) refund: Dojo accepts it and its operation is recorded, then the order's settlement fails.
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_refund_settle() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.payment_intent_id = '${pi.id}' AND NEW.refunded_amount <> OLD.refunded_amount THEN RAISE EXCEPTION 'settlement refused'; END IF;
        RETURN NEW;
      END $$`);
    await db.prisma.$executeRawUnsafe('CREATE TRIGGER test_refuse_refund_settle BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION test_refuse_refund_settle()');
    const k = key();
    try {
      const failed = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 500, reason: 'second' }, key: k });
      assert.ok(failed.status >= 500, JSON.stringify(failed));
    } finally {
      await db.prisma.$executeRawUnsafe('DROP TRIGGER test_refuse_refund_settle ON payments');
      await db.prisma.$executeRawUnsafe('DROP FUNCTION test_refuse_refund_settle()');
    }
    assert.equal(sim.paymentIntents.get(a.dojoAccountId, pi.id).refundedAmount, 1000, 'Dojo refunded it');
    assert.equal((await order(o.id)).paidAmount, 1500, 'the order did not take it');

    // The client retries with the same key: Dojo is not asked again, and the refund comes off the order.
    const retried = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 500, reason: 'second' }, key: k });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.refundedAmount, 1000);
    assert.equal(sim.paymentIntents.get(a.dojoAccountId, pi.id).refundedAmount, 1000, 'one refund at Dojo');
    const view = await order(o.id);
    assert.deepEqual([view.paidAmount, view.outstandingAmount, view.payable], [1000, 1000, true]);
    assert.deepEqual([(await paymentView(o.id)).refundedAmount, (await paymentView(o.id)).state], [1000, 'Recorded']);
    // Once settled, a further replay changes nothing.
    await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 500, reason: 'second' }, key: k });
    assert.equal((await order(o.id)).paidAmount, 1000);
  });

  it("keeps the POS's hold (payable false) through a refund and a reversal, until the POS lifts it", async () => {
    const id = `held-${Date.now().toString(36)}`;
    const sample = sampleOrder(id, 2500);
    const put = (payable: boolean) => call('PUT', `${venue(a)}/orders/${id}`, { body: { ...sample, details: { orderType: 'Collection', collection: { asap: true } }, payable } });
    const created = await put(true);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const first = await createIntent(id, { amount: 1000 });
    await payAtCheckout(first.checkoutUrl);
    await paidIs(id, 1000);
    await eventsSettled(first.id);
    // The POS is editing the bill: nothing may be taken against it meanwhile.
    assert.equal((await put(false)).status, 200);
    assert.equal((await order(id)).payable, false);
    const refund = await call('POST', `${venue(a)}/payment-intents/${first.id}/refunds`, { body: { amount: 400, reason: 'wrong dish' }, key: key() });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    let view = await order(id);
    assert.equal(view.paidAmount, 600);
    assert.equal(view.payable, false, 'a refund recomputes the paid amount, not the hold');
    await deliverRefunded(first.id, [`evt_${first.id}_refunded_held`], 1403);
    await eventsSettled(first.id);
    assert.equal((await order(id)).payable, false, "Dojo's Refunded event keeps it too");
    const refused = await call('POST', `${venue(a)}/orders/${id}/payment-intents`, { body: {}, key: key() });
    assert.equal(refused.status, 409, 'no intent while the venue holds the order');
    // The POS is done editing: payable again for what is outstanding.
    assert.equal((await put(true)).status, 200);
    view = await order(id);
    assert.deepEqual([view.paidAmount, view.payable], [600, true]);
  });

  it('settles refunds made at Dojo (not through the venue API) from the Refunded events, reading refundedAmount from Dojo, once', async () => {
    const o = await fx.order(a.id, { total: 2000 });
    const pi = await createIntent(o.id, { tipsAllowed: true });
    await payAtCheckout(pi.checkoutUrl, TEST_CARDS.success, 200);
    await paidIs(o.id, 2000);
    await eventsSettled(pi.id);
    assert.equal((await order(o.id)).tipsAmount, 200);
    // Refunded at Dojo (its portal): no event until we deliver them, shuffled and duplicated on both channels.
    sim.paymentIntents.refund(a.dojoAccountId, pi.id, { amount: 500, refundReason: 'portal' }, 'portal-refund-1');
    await deliverRefunded(pi.id, [`evt_${pi.id}_portal_1`, `evt_${pi.id}_portal_1b`], 1403);
    await paidIs(o.id, 1500);
    await eventsSettled(pi.id);
    let view = await order(o.id);
    assert.equal(view.paidAmount, 1500);
    assert.equal(view.tipsAmount, 200, 'a refund within the paid amount leaves the tips');
    assert.equal(view.payable, true);
    assert.equal((await paymentView(o.id)).state, 'Recorded');
    assert.equal((await call('GET', `${venue(a)}/payment-intents/${pi.id}`)).body.refundedAmount, 500, "the intent shows Dojo's refundedAmount");

    // A further refund at Dojo beyond the paid amount: the next event brings the cumulative amount; it takes tips last.
    sim.paymentIntents.refund(a.dojoAccountId, pi.id, { amount: 1600, refundReason: 'portal' }, 'portal-refund-2');
    await deliverRefunded(pi.id, [`evt_${pi.id}_portal_2`], 1404);
    await paidIs(o.id, 0);
    await eventsSettled(pi.id);
    view = await order(o.id);
    assert.equal(view.tipsAmount, 100);
    assert.equal((await paymentView(o.id)).state, 'Recorded', '2100 of 2200 refunded: not full yet');
    sim.paymentIntents.refund(a.dojoAccountId, pi.id, { amount: 100, refundReason: 'portal' }, 'portal-refund-3');
    await deliverRefunded(pi.id, [`evt_${pi.id}_portal_3`], 1405);
    await waitFor(async () => ((await paymentView(o.id)).state === 'Refunded' ? true : undefined), 'fully refunded');
    view = await order(o.id);
    assert.deepEqual([view.paidAmount, view.tipsAmount, view.payable], [0, 0, true]);
  });

  it("settles a partial refund at Dojo of a card machine's payment from Dojo's refundedAmount; the rest stays counted", async () => {
    const o = await fx.order(a.id, { total: 1800 });
    // The card machine's intent is Dojo's own (the sandbox's store): never created through the venue API, so no
    // payment_intents row; the card machine records it, and no Captured event is sent.
    const pi = sim.paymentIntents.create(a.dojoAccountId, { amount: { value: 1800, currencyCode: 'GBP' }, reference: `card-${o.id}` }, undefined);
    assert.equal(sim.paymentIntents.pay(pi.id, TEST_CARDS.success, undefined).intent.status, 'Captured');
    const reply = await sim.call(a.dojoAccountId, 'RecordOrderPaymentByIdV1', { orderId: o.id, paymentIntentId: pi.id, paidAmount: { value: 1800, currencyCode: 'GBP' } });
    assert.ok('result' in reply, JSON.stringify(reply));
    await paidIs(o.id, 1800);
    // 500 refunded at Dojo: the Refunded status alone would undo all 1800.
    sim.paymentIntents.refund(a.dojoAccountId, pi.id, { amount: 500, refundReason: 'portal' }, `card-refund-1-${pi.id}`);
    await deliverRefunded(pi.id, [`evt_${pi.id}_card_1`, `evt_${pi.id}_card_1b`], 1406);
    await eventsSettled(pi.id);
    await paidIs(o.id, 1300);
    assert.equal((await order(o.id)).payable, true);
    assert.deepEqual([(await paymentView(o.id)).state, (await paymentView(o.id)).refundedAmount], ['Recorded', 500]);
    // The rest refunded: undone.
    sim.paymentIntents.refund(a.dojoAccountId, pi.id, { amount: 1300, refundReason: 'portal' }, `card-refund-2-${pi.id}`);
    await deliverRefunded(pi.id, [`evt_${pi.id}_card_2`], 1407);
    await waitFor(async () => ((await paymentView(o.id)).state === 'Refunded' ? true : undefined), 'fully refunded');
    assert.equal((await order(o.id)).paidAmount, 0);
  });

  it('reverses a captured intent, undoing the payment: the order is payable again', async () => {
    const o2 = await fx.order(a.id, { total: 1200 });
    const pi2 = await createIntent(o2.id);
    await payAtCheckout(pi2.checkoutUrl);
    await paidIs(o2.id, 1200);
    await waitFor(async () => ((await call('GET', `${venue(a)}/payment-intents/${pi2.id}`)).body.status === 'Captured' ? true : undefined), 'Captured');
    const rev = await call('POST', `${venue(a)}/payment-intents/${pi2.id}/reversal`, { body: { reason: 'wrong table' }, key: key() });
    assert.equal(rev.status, 200, JSON.stringify(rev.body));
    await paidIs(o2.id, 0);
    assert.equal((await order(o2.id)).payments[0].state, 'Reversed');
    assert.equal((await order(o2.id)).payable, true);
  });

  it('cancels an unpaid intent (freeing its amount), captures a manual one, and changes tips', async () => {
    const o = await fx.order(a.id, { total: 2500 });
    const pi = await createIntent(o.id);
    const cancel = await call('POST', `${venue(a)}/payment-intents/${pi.id}/cancel`);
    assert.equal(cancel.status, 200);
    await waitFor(async () => ((await call('GET', `${venue(a)}/payment-intents/${pi.id}`)).body.status === 'Canceled' ? true : undefined), 'Canceled');
    const manual = await createIntent(o.id, { captureMode: 'Manual', tipsAllowed: true });
    assert.equal(manual.amount, 2500, 'the canceled intent no longer counts');
    const tips = await call('POST', `${venue(a)}/payment-intents/${manual.id}/tips`, { body: { tipsAmount: 300 } });
    assert.equal(tips.status, 200, JSON.stringify(tips.body));
    assert.equal(tips.body.tipsAmount, 300);
    const declined = await payAtCheckout(manual.checkoutUrl, TEST_CARDS.declined);
    assert.match(declined.text, /declined/);
    const paid = await payAtCheckout(manual.checkoutUrl, TEST_CARDS.manualCapture);
    assert.match(paid.text, /authorized/);
    await waitFor(async () => ((await call('GET', `${venue(a)}/payment-intents/${manual.id}`)).body.status === 'Authorized' ? true : undefined), 'Authorized');
    assert.equal((await order(o.id)).paidAmount, 0, 'an authorization is not a payment');
    const cap = await call('POST', `${venue(a)}/payment-intents/${manual.id}/capture`, { body: {}, key: key() });
    assert.equal(cap.status, 200, JSON.stringify(cap.body));
    await paidIs(o.id, 2500);
    assert.equal((await order(o.id)).tipsAmount, 300);
  });

  const intentStatusIs = (pi: string, status: string) =>
    waitFor(async () => ((await call('GET', `${venue(a)}/payment-intents/${pi}`)).body.status === status ? true : undefined), `intent ${pi} ${status}`);

  it('records what a partial capture took: the order is paid that part, payable for the rest, and a refund above it is refused before Dojo', async () => {
    const o = await fx.order(a.id, { total: 3000 });
    const pi = await createIntent(o.id, { captureMode: 'Manual' });
    await payAtCheckout(pi.checkoutUrl);
    await intentStatusIs(pi.id, 'Authorized');
    const cap = await call('POST', `${venue(a)}/payment-intents/${pi.id}/capture`, { body: { amount: 1800 }, key: key() });
    assert.equal(cap.status, 200, JSON.stringify(cap.body));
    await waitFor(async () => ((await paymentsOf(o.id)).length === 1 ? true : undefined), 'the capture recorded on the order');
    await eventsSettled(pi.id);
    const view = await order(o.id);
    assert.deepEqual([view.paidAmount, view.outstandingAmount, view.payable], [1800, 1200, true], 'paid what was captured, payable for the rest');
    assert.equal((await paymentView(o.id)).capturedAmount, 1800);
    assert.equal((await createIntent(o.id)).amount, 1200, 'a new intent asks for the rest');

    const over = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 1801, reason: 'too much' }, key: key() });
    assert.equal(over.status, 400, JSON.stringify(over.body));
    assert.equal(over.body.fields[0].field, 'amount');
    assert.match(over.body.fields[0].reason, /from 1 to 1800/);
    assert.equal(sim.paymentIntents.get(a.dojoAccountId, pi.id).refundedAmount, 0, 'Dojo was not asked');
    const all = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { reason: 'all of it' }, key: key() });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.refundedAmount, 1800, 'a refund in full is of what was captured');
    assert.equal((await order(o.id)).paidAmount, 0);
  });

  it("records a partial capture made at Dojo (not through the venue API) from Dojo's captures", async () => {
    const o = await fx.order(a.id, { total: 2400 });
    const pi = await createIntent(o.id, { captureMode: 'Manual' });
    await payAtCheckout(pi.checkoutUrl);
    await intentStatusIs(pi.id, 'Authorized');
    const r = sim.paymentIntents.capture(a.dojoAccountId, pi.id, { amount: 700 });
    sim.emitIntentEvents(sim.paymentIntents.get(a.dojoAccountId, pi.id), r.changes);
    await waitFor(async () => ((await paymentsOf(o.id)).length === 1 ? true : undefined), 'the capture recorded on the order');
    await eventsSettled(pi.id);
    assert.deepEqual([(await order(o.id)).paidAmount, (await order(o.id)).payable], [700, true]);
  });

  it("records a partial capture from the venue API's capture when Dojo's answer does not say what was captured", async () => {
    const o = await fx.order(a.id, { total: 2000 });
    const pi = await createIntent(o.id, { captureMode: 'Manual' });
    await payAtCheckout(pi.checkoutUrl);
    await intentStatusIs(pi.id, 'Authorized');
    sim.omitIntentCaptures(true);
    try {
      const cap = await call('POST', `${venue(a)}/payment-intents/${pi.id}/capture`, { body: { amount: 500 }, key: key() });
      assert.equal(cap.status, 200, JSON.stringify(cap.body));
      await waitFor(async () => ((await paymentsOf(o.id)).length === 1 ? true : undefined), 'the capture recorded on the order');
      await eventsSettled(pi.id);
    } finally {
      sim.omitIntentCaptures(false);
    }
    const view = await order(o.id);
    assert.deepEqual([view.paidAmount, view.outstandingAmount, view.payable], [500, 1500, true]);
    const over = await call('POST', `${venue(a)}/payment-intents/${pi.id}/refunds`, { body: { amount: 501, reason: 'too much' }, key: key() });
    assert.equal(over.status, 400, JSON.stringify(over.body));
  });

  it("records a venue API partial capture for what it asked even when its Captured event is applied before Dojo's answer, which lists no captures", async () => {
    const o = await fx.order(a.id, { total: 2000 });
    const pi = await createIntent(o.id, { captureMode: 'Manual' });
    await payAtCheckout(pi.checkoutUrl);
    await intentStatusIs(pi.id, 'Authorized');
    sim.omitIntentCaptures(true);
    sim.delayCaptureAnswers(2500);
    try {
      let answered = false;
      const capturing = call('POST', `${venue(a)}/payment-intents/${pi.id}/capture`, { body: { amount: 500 }, key: key() }).finally(() => (answered = true));
      // Dojo sends Captured at once; its answer to the capture is still on its way when the event records the payment.
      await waitFor(async () => ((await paymentsOf(o.id)).length === 1 ? true : undefined), 'the Captured event recorded the payment');
      assert.equal(answered, false, 'recorded before the capture was answered');
      assert.equal(Number((await paymentsOf(o.id))[0]!.paidAmount), 500, 'what the capture asked, not the whole intent');
      assert.equal((await capturing).status, 200);
      await eventsSettled(pi.id);
    } finally {
      sim.omitIntentCaptures(false);
      sim.delayCaptureAnswers(0);
    }
    const view = await order(o.id);
    assert.deepEqual([view.paidAmount, view.outstandingAmount, view.payable], [500, 1500, true]);
  });

  it('captures an Auto intent left Authorized by a card that needs a capture', async () => {
    const o = await fx.order(a.id, { total: 1300 });
    const pi = await createIntent(o.id);
    assert.equal(pi.captureMode, 'Auto');
    const paid = await payAtCheckout(pi.checkoutUrl, TEST_CARDS.manualCapture);
    assert.match(paid.text, /authorized/);
    await intentStatusIs(pi.id, 'Authorized');
    const cap = await call('POST', `${venue(a)}/payment-intents/${pi.id}/capture`, { body: {}, key: key() });
    assert.equal(cap.status, 200, JSON.stringify(cap.body));
    await paidIs(o.id, 1300);
    await intentStatusIs(pi.id, 'Captured');
    assert.equal((await paymentsOf(o.id)).length, 1);
  });

  it('sends one capture to Dojo for two concurrent requests with the same key; a capture Dojo refuses frees its key', async () => {
    const o = await fx.order(a.id, { total: 1600 });
    const pi = await createIntent(o.id, { captureMode: 'Manual' });
    await payAtCheckout(pi.checkoutUrl);
    await intentStatusIs(pi.id, 'Authorized');
    const posts = (id: string) => sim.paymentIntents.captureRequests.filter((c) => c.paymentIntentId === id).length;
    const capture = (id: string, k: string) => call('POST', `${venue(a)}/payment-intents/${id}/capture`, { body: { amount: 1000 }, key: k });
    const k = key();
    // Dojo takes the capture and answers slowly: the second request comes while the first is at Dojo.
    sim.delayCaptureAnswers(500);
    let both: Array<{ status: number; body: any }>;
    try {
      both = await Promise.all([capture(pi.id, k), capture(pi.id, k)]);
    } finally {
      sim.delayCaptureAnswers(0);
    }
    assert.equal(posts(pi.id), 1, 'one POST /captures at Dojo');
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 409], JSON.stringify(both));
    assert.match(both.find((r) => r.status === 409)!.body.message, /answer is not known yet/);
    const again = await capture(pi.id, k);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(posts(pi.id), 1, 'a repeat of the key after the answer is a replay');
    await paidIs(o.id, 1000);
    assert.equal((await paymentsOf(o.id)).length, 1);

    // Reversed at Dojo (no event told us): Dojo refuses the capture, and its key is free again.
    const o2 = await fx.order(a.id, { total: 800 });
    const pi2 = await createIntent(o2.id, { captureMode: 'Manual' });
    await payAtCheckout(pi2.checkoutUrl);
    await intentStatusIs(pi2.id, 'Authorized');
    // The reconciler would soon read the reversal and refuse the capture locally: it looks later.
    await db.prisma.paymentIntent.updateMany({ where: { locationId: a.id, paymentIntentId: pi2.id }, data: { nextCheckAt: new Date(Date.now() + 3_600_000) } });
    sim.paymentIntents.reverse(a.dojoAccountId, pi2.id);
    const k2 = key();
    const refused = await call('POST', `${venue(a)}/payment-intents/${pi2.id}/capture`, { body: {}, key: k2 });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.message, /Dojo refused/);
    // Dojo's status only: its path and its answer (a problem body) are logged, not shown to a POS.
    assert.ok(refused.body.dojoStatus >= 400 && refused.body.dojoStatus < 500, JSON.stringify(refused.body));
    assert.equal(refused.body.message, `Dojo refused: it answered with HTTP ${refused.body.dojoStatus}`);
    assert.doesNotMatch(refused.body.message, /payment-intents|captures|title|detail|[{}]/);
    assert.equal(await db.prisma.paymentIntentOperation.count({ where: { locationId: a.id, idempotencyKey: k2 } }), 0, 'the claim is freed');
    assert.equal((await call('POST', `${venue(a)}/payment-intents/${pi2.id}/capture`, { body: {}, key: k2 })).status, 409);
    assert.equal(posts(pi2.id), 2, 'the retry was sent to Dojo (refused again), not answered as a replay');
  });

  it('answers a cancel with the intent Canceled, so the order may be asked for again at once; Dojo\'s Canceled event then changes nothing', async () => {
    const o = await fx.order(a.id, { total: 2100 });
    const pi = await createIntent(o.id);
    const cancel = await call('POST', `${venue(a)}/payment-intents/${pi.id}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.status, 'Canceled');
    const again = await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: {}, key: key() });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.amount, 2100, 'the canceled intent reserves nothing');
    await waitFor(async () => ((await db.prisma.dojoEvent.count({ where: { locationId: a.id, paymentIntentId: pi.id, paymentStatus: 'Canceled' } })) > 0 ? true : undefined), "Dojo's Canceled event stored");
    await eventsSettled(pi.id);
    const later = (await call('GET', `${venue(a)}/payment-intents/${pi.id}`)).body;
    assert.deepEqual([later.status, later.updatedAt], ['Canceled', cancel.body.updatedAt], 'the event found the intent Canceled and left it');
    const row = await db.prisma.paymentIntent.findFirstOrThrow({ where: { locationId: a.id, paymentIntentId: pi.id } });
    assert.equal(row.nextCheckAt, null, 'final: the reconciler no longer looks at it');
    assert.equal((await paymentsOf(o.id)).length, 0);
    assert.deepEqual(await feedOf(pi.id, 'payment.updated'), []);
    assert.equal((await call('GET', `${venue(a)}/payment-intents/${again.body.id}`)).body.status, 'Created');
  });

  it('keeps a capture the order can no longer take off the order, with a note on the intent for the venue to refund', async () => {
    const o = await fx.order(a.id, { total: 1100 });
    const pi = await createIntent(o.id);
    await db.prisma.order.update({ where: { locationId_id: { locationId: a.id, id: o.id } }, data: { status: 'Finalized', payable: false } });
    await payAtCheckout(pi.checkoutUrl);
    const seen = await waitFor(async () => {
      const r = (await call('GET', `${venue(a)}/payment-intents/${pi.id}`)).body;
      return r.settlementNote ? r : undefined;
    }, 'the settlement note');
    assert.equal(seen.status, 'Captured');
    assert.match(seen.settlementNote, /Finalized/);
    assert.equal((await paymentsOf(o.id)).length, 0);
    const statusUpdates = { paymentIntentId: pi.id, eventType: 'payment_intent.status_updated' };
    await waitFor(async () => ((await db.prisma.dojoEvent.count({ where: { ...statusUpdates, state: { not: 'applied' } } })) === 0 ? true : undefined), 'status updates applied');
    const updates = await db.prisma.dojoEvent.findMany({ where: statusUpdates });
    assert.deepEqual(updates.map((e) => e.state), ['applied', 'applied'], 'Authorized and Captured applied: nothing left to retry');
    // payment_intent.created may beat the venue API's write of Dojo's id (then it waits); the sweeper applies it without a payment.
    await waitFor(async () => ((await db.prisma.dojoEvent.count({ where: { paymentIntentId: pi.id, state: { not: 'applied' } } })) === 0 ? true : undefined), 'every event applied', 20_000);
  });

  it('recovers a lost webhook and socket event with the reconciler reading the intent from Dojo', async () => {
    const o = await fx.order(a.id, { total: 900 });
    const pi = await createIntent(o.id);
    sim.loseIntentEvents(true);
    try {
      await payAtCheckout(pi.checkoutUrl);
      await paidIs(o.id, 900);
    } finally {
      sim.loseIntentEvents(false);
    }
    const rows = await db.prisma.dojoEvent.findMany({ where: { locationId: a.id, paymentIntentId: pi.id, channel: 'reconciler' } });
    assert.deepEqual(rows.map((r) => [r.eventId, r.state]), [[`reconciler:${pi.id}:Captured`, 'applied']]);
    assert.equal((await paymentsOf(o.id)).length, 1);
  });

  it('counts the same intent once when a card machine and an event both record it', async () => {
    const o = await fx.order(a.id, { total: 1800 });
    const pi = await createIntent(o.id);
    const reply = await sim.call(a.dojoAccountId, 'RecordOrderPaymentByIdV1', { orderId: o.id, paymentIntentId: pi.id, paidAmount: { value: 1800, currencyCode: 'GBP' } });
    assert.ok('result' in reply, JSON.stringify(reply));
    await payAtCheckout(pi.checkoutUrl);
    await waitFor(async () => ((await call('GET', `${venue(a)}/payment-intents/${pi.id}`)).body.status === 'Captured' ? true : undefined), 'Captured');
    await waitFor(async () => ((await db.prisma.dojoEvent.count({ where: { paymentIntentId: pi.id, state: { not: 'applied' } } })) === 0 ? true : undefined), 'events applied');
    assert.equal((await paymentsOf(o.id)).length, 1);
    assert.equal((await order(o.id)).paidAmount, 1800);

    // The other way round: the event first, then the card machine's replay.
    const o2 = await fx.order(a.id, { total: 700 });
    const pi2 = await createIntent(o2.id);
    await payAtCheckout(pi2.checkoutUrl);
    await paidIs(o2.id, 700);
    const replay = await sim.call(a.dojoAccountId, 'RecordOrderPaymentByIdV1', { orderId: o2.id, paymentIntentId: pi2.id, paidAmount: { value: 700, currencyCode: 'GBP' } });
    assert.ok('result' in replay, JSON.stringify(replay));
    assert.equal((await paymentsOf(o2.id)).length, 1);
    assert.equal((await order(o2.id)).paidAmount, 700);
  });

  it("runs the sandbox's online-payment flow: intent, checkout, paid, half refunded, payable for that half", async () => {
    const o = await fx.order(a.id, { total: 2600 });
    const r = await sim.runFlow('online-payment', { accountId: a.dojoAccountId, venueApi: admin.url, locationId: a.id, venueToken: tokenA, orderId: o.id });
    assert.equal(r.status, 'SUCCESS', JSON.stringify(r.steps.filter((st) => st.status !== 'SUCCESS')));
    assert.deepEqual(
      r.steps.map((st) => st.name),
      ['create payment intent (venue API)', 'pay at the checkout page', 'order paid (GetOrderByIdV1)', 'refund half (venue API)', 'order payable for the refunded half (GetOrderByIdV1)'],
    );
    assert.equal(r.params.venueToken, '***', 'the token is not shown in the result');
    const view = await order(o.id);
    assert.deepEqual([view.payable, view.paidAmount, view.outstandingAmount], [true, 1300, 1300]);
  });

  it('refuses cleanly: closed orders, decimals, missing or reused keys; replays a key; isolates venues', async () => {
    const closed = await fx.order(a.id, { total: 1000, status: 'Finalized' });
    assert.equal((await call('POST', `${venue(a)}/orders/${closed.id}/payment-intents`, { body: {}, key: key() })).status, 409);
    const o = await fx.order(a.id, { total: 1000 });
    const decimal = await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: { amount: 10.5 }, key: key() });
    assert.equal(decimal.status, 400);
    assert.equal(decimal.body.fields[0].field, 'amount');
    const text = await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: { amount: '1000' }, key: key() });
    assert.equal(text.status, 400);
    assert.equal((await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: {} })).status, 400, 'no Idempotency-Key');
    const k = key();
    const one = await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: { amount: 400 }, key: k });
    const two = await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: { amount: 400 }, key: k });
    assert.equal(one.status, 201);
    assert.equal(two.body.id, one.body.id, 'the same key answers the same intent');
    assert.equal((await call('POST', `${venue(a)}/orders/${o.id}/payment-intents`, { body: { amount: 401 }, key: k })).status, 409);
    assert.equal((await call('GET', `${venue(a)}/orders/${o.id}/payment-intents`)).body.items.length, 1);

    // A claim left Creating by a process that died mid-call stops counting once stale; a fresh one still counts.
    const o3 = await fx.order(a.id, { total: 800 });
    const claim = (id: string, k: string, ageMs: number) =>
      db.prisma.paymentIntent.create({
        data: {
          locationId: a.id, id, orderId: o3.id, idempotencyKey: k, requestHash: 'x', amount: 800n, currency: 'GBP', captureMode: 'Auto',
          tipsAllowed: false, status: 'Creating', createdAt: new Date(Date.now() - ageMs),
        },
      });
    await claim('00000000-0000-4000-8000-000000000001', 'died-fresh', 1_000);
    assert.equal((await call('POST', `${venue(a)}/orders/${o3.id}/payment-intents`, { body: {}, key: key() })).status, 409, 'a fresh claim covers the order');
    await db.prisma.paymentIntent.deleteMany({ where: { locationId: a.id, orderId: o3.id } });
    await claim('00000000-0000-4000-8000-000000000002', 'died-stale', 600_000);
    const after = await call('POST', `${venue(a)}/orders/${o3.id}/payment-intents`, { body: {}, key: 'died-stale' });
    assert.equal(after.status, 201, JSON.stringify(after.body));
    assert.equal(after.body.amount, 800);

    // Venue B: A's routes are forbidden to its token; A's order and intent are not found under B.
    assert.equal((await call('GET', `${venue(a)}/orders/${o.id}/payment-intents`, { token: tokenB })).status, 403);
    assert.equal((await call('POST', `${venue(b)}/orders/${o.id}/payment-intents`, { token: tokenB, body: {}, key: key() })).status, 404);
    assert.equal((await call('GET', `${venue(b)}/orders/${o.id}/payment-intents`, { token: tokenB })).status, 404);
    assert.equal((await call('GET', `${venue(b)}/payment-intents/${one.body.id}`, { token: tokenB })).status, 404);
    assert.equal((await call('POST', `${venue(b)}/payment-intents/${one.body.id}/refunds`, { token: tokenB, body: { reason: 'x' }, key: key() })).status, 404);
  });
});
