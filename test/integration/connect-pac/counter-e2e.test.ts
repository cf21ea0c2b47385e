/**
 * Pay at counter end to end (issue 13's "Done when"): the venue's POS calls
 * the venue API (admin app), two real gateway replicas (child processes) hold
 * the location's Connect PAC link to the sandbox's /pac, a real worker settles
 * the outcomes in Postgres. A sale approved and recorded once against its
 * order while the POS retries, a decline, a signature answered by the POS and
 * one by the venue's default, a cancel, a terminal timeout, the command always
 * executed by the owner while two replicas hear it, the owner killed with
 * SIGKILL mid-transaction and the outcome recovered, and the token in no log
 * line. Sandbox timings are short (terminal timeout, signature window, steps)
 * and every wait is on an event or a state, never a fixed sleep.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { CounterEvent } from '@app/contracts';
import { DojoSandbox } from '@app/dojo-sandbox';
import { leaseKey, rendezvousOwner } from '@app/gateway';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { AppProcess } from '../../support/app-processes';
import { killApps, spawnApps } from '../../support/app-processes';

const TOKEN = `pac-token-${randomUUID()}`;
/** The token of a PAC link beside an EPOS Data location (counter_links). */
const BESIDE_TOKEN = `pac-beside-${randomUUID()}`;
const OPERATOR = `op-${randomUUID()}`;
const SIGNATURE_WAIT_MS = 800;

type View = Record<string, any>;

/** The venue's counter event stream (Server-Sent Events) as a POS reads it. */
class EventStream {
  readonly events: CounterEvent[] = [];
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  opened!: Promise<void>;

  constructor(url: string, token: string) {
    this.opened = (async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: this.abort.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      void this.read(res.body!);
    })();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('\n');
          if (!data) continue;
          this.events.push(JSON.parse(data) as CounterEvent);
          for (const w of this.waiters.splice(0)) w();
        }
      }
    } catch {
      // Aborted by close(): the stream's end is expected.
    }
  }

  /** Resolves with the first event (already received or to come) that fits. */
  async next(pred: (e: CounterEvent) => boolean, what: string, timeoutMs = 15_000): Promise<CounterEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} event within ${timeoutMs} ms; saw ${this.events.map((e) => `${e.type}:${JSON.stringify(e.data.notificationValue ?? e.data.state ?? '')}`).join(' ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}

describe('Connect pay at counter through the venue API, two gateway replicas, the worker, Redis and Postgres', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let sim: DojoSandbox;
  let redis: Redis;
  let apps: AppProcess[] = [];
  let prefix: string;
  let locationId: string;
  let accountId: string;
  let venueToken: string;
  let api: string;
  let replicaIds: string[] = [];
  const gateways = () => apps.filter((a) => a.name === 'gateway');

  const venue = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${api}/venue/v1/locations/${locationId}${path}`, {
      method,
      headers: { authorization: `Bearer ${venueToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as View };
  };
  const start = (tid: string, body: object, key = randomUUID()) => venue('POST', `/terminals/${encodeURIComponent(tid)}/transactions`, { kind: 'sale', ...body }, { 'idempotency-key': key });
  const view = async (id: string) => (await venue('GET', `/terminal-transactions/${id}`)).body;
  const settled = (id: string, timeoutMs = 20_000) =>
    waitFor(async () => {
      const v = await view(id);
      return v.state === 'finished' || v.state === 'failed' ? v : undefined;
    }, `transaction ${id} settled`, timeoutMs, 50);
  const order = (id: string) => db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId, id } } });
  const paymentsOf = (orderId: string) => db.prisma.payment.findMany({ where: { locationId, orderId } });
  const runsOf = (transactionId: string) => sim.pac.runs.filter((r) => r.accountId === accountId && r.requestId === transactionId);
  const owner = async (id = locationId) => (await redis.get(leaseKey(prefix, id)))?.split(':')[0];
  const operator = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as View, text };
  };
  const statusOf = async (id: string) => {
    for (const g of gateways()) {
      if (g.child.exitCode !== null || g.child.signalCode !== null) continue;
      const s = (await (await fetch(`${g.url}/status`)).json()) as { locations: Record<string, any>[] };
      const st = s.locations.find((l) => l.locationId === id && l.state !== 'disabled');
      if (st) return st;
    }
    return undefined;
  };
  const stream = async () => {
    const s = new EventStream(`${api}/venue/v1/locations/${locationId}/terminal-events`, venueToken);
    await s.opened;
    return s;
  };

  before(async () => {
    db = await createTestDatabase('counter_e2e');
    fx = fixtures(db.prisma);
    redis = new Redis(testRedisUrl());
    // Short terminal timings: a transaction takes a few hundred ms, a stuck terminal gives up after 1.5 s.
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 500, pac: { terminalTimeoutMs: 1_500, signatureWindowMs: 5_000, stepDelayMs: 25 } });
    const sh = await fx.softwareHouse();
    const shRow = await db.prisma.softwareHouse.findUniqueOrThrow({ where: { id: sh.id } });
    accountId = `pac-acc-${randomUUID().slice(0, 8)}`;
    sim.addAccount({ apiKey: TOKEN, softwareHouseId: shRow.dojoSoftwareHouseId, accountId });
    prefix = uniquePrefix('pacgw');
    const env = (name: string) =>
      appEnv(db, {
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'debug',
        ADMIN_OPERATOR_TOKENS: OPERATOR,
        DOJO_WS_URL: sim.wsUrl,
        ...(name === 'gateway' ? { GATEWAY_REPLICA_ID: `gw-${randomUUID().slice(0, 8)}` } : {}),
        GATEWAY_LEASE_TTL_MS: '1000',
        GATEWAY_BACKOFF_BASE_MS: '50',
        GATEWAY_BACKOFF_MAX_MS: '300',
        GATEWAY_PING_INTERVAL_MS: '500',
        COUNTER_POLL_MS: '100',
        COUNTER_TERMINALS_REFRESH_MS: '1000',
      });
    apps = await spawnApps(['admin', 'worker', 'gateway', 'gateway'], env);
    api = apps.find((a) => a.name === 'admin')!.url!;
    // Onboarded as an operator would: protocol connect-pac, the Connect token as its key, the sandbox's /pac as its URL.
    const created = await operator('POST', '/v1/locations', {
      name: 'Counter Cafe',
      softwareHouseId: sh.id,
      dojoAccountId: accountId,
      apiKey: TOKEN,
      protocol: 'connect-pac',
      wsUrl: sim.pacUrl,
      connectPac: { hostAddress: 'counterhost', environment: 'test', installerId: 'INST-PAC', signatureDefault: 'decline', signatureWaitMs: SIGNATURE_WAIT_MS },
    });
    assert.equal(created.status, 201, created.text);
    locationId = created.body.id;
    const res = await fetch(`${api}/v1/locations/${locationId}/venue-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'till' }),
    });
    venueToken = ((await res.json()) as { token: string }).token;
    assert.ok(venueToken);
    await waitFor(async () => {
      const members = await Promise.all(gateways().map(async (g) => ((await (await fetch(`${g.url}/status`)).json()) as { members: string[] }).members.length));
      return members.every((n) => n === 2);
    }, 'both gateway replicas are members', 30_000);
    replicaIds = await Promise.all(gateways().map(async (g) => ((await (await fetch(`${g.url}/status`)).json()) as { replicaId: string }).replicaId));
    // Settled: the rendezvous owner holds the lease and the one /pac socket (no handover left to happen mid-test).
    await waitFor(
      async () => (await owner()) === rendezvousOwner(locationId, replicaIds) && (await statusOf(locationId))?.state === 'open' && sim.pac.connections(accountId).length === 1,
      'the owner holds the /pac link',
      30_000,
    );
  });

  after(async () => {
    await killApps(apps);
    redis?.disconnect();
    await sim?.close();
    await db?.drop();
  });

  it('dials /pac with the token, api-version=v1, software-house-id and installer-id, and lists the terminals', async () => {
    const shRow = await db.prisma.softwareHouse.findFirstOrThrow();
    const ok = sim.pac.handshakes.filter((h) => h.status === 101 && h.accountId === accountId);
    assert.ok(ok.length >= 1);
    assert.equal(ok[0]!.rawUrl, `/pac?token=${TOKEN}&api-version=v1&software-house-id=${shRow.dojoSoftwareHouseId}&installer-id=INST-PAC`);
    const list = await waitFor(async () => {
      const r = await venue('GET', '/terminals');
      return r.status === 200 && r.body.terminals?.length ? r.body : undefined;
    }, 'the terminal list');
    assert.equal(list.link.state, 'open');
    assert.ok(list.observedAt);
    const tids = list.terminals.map((t: any) => t.tid);
    for (const tid of ['VT-1', 'VT-2', 'VT-DECLINE', 'VT-SIGNATURE', 'VT-CANCEL', 'VT-TIMEOUT']) assert.ok(tids.includes(tid), tid);
    assert.ok(list.terminals.every((t: any) => t.status === 'AVAILABLE' || t.status === 'BUSY'));
  });

  it('a sale against an order is approved and recorded once, however often the POS retries it', async () => {
    const o = await fx.order(locationId, { total: 1200 });
    const events = await stream();
    try {
      const key = randomUUID();
      const first = await start('VT-1', { amount: 1200, orderId: o.id }, key);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      const id = first.body.id as string;
      assert.equal(first.body.state, 'accepted');
      // Retries of the same request (one at once, two concurrently) are the same transaction.
      const retries = await Promise.all([start('VT-1', { amount: 1200, orderId: o.id }, key), start('VT-1', { amount: 1200, orderId: o.id }, key)]);
      for (const r of retries) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.id, id);
      }
      // Progress reaches the POS as it happens, then the result.
      await events.next((e) => e.transactionId === id && e.type === 'notification' && e.data.notificationValue === 'PIN_ENTRY', 'PIN_ENTRY');
      const done = await events.next((e) => e.transactionId === id && e.type === 'transaction' && e.data.state === 'finished', 'finished');
      assert.equal(done.data.result, 'SUCCESSFUL');
      const again = await start('VT-1', { amount: 1200, orderId: o.id }, key);
      assert.equal(again.body.id, id);
      const v = await settled(id);
      assert.equal(v.result, 'SUCCESSFUL');
      assert.equal(v.paymentId, id);
      assert.ok(v.receiptLines?.CUSTOMER?.length && v.receiptLines?.MERCHANT?.length, 'the receipt stays readable');
      // Recorded once on the order, and executed once on the terminal.
      const paid = await order(o.id);
      assert.equal(paid.paidAmount, 1200n);
      assert.equal(paid.payable, false);
      const payments = await paymentsOf(o.id);
      assert.deepEqual(payments.map((p) => [p.paymentIntentId, p.paidAmount]), [[id, 1200n]]);
      assert.equal(runsOf(id).length, 1);
      // The terminal's progress in the order it happened, all of it before the outcome.
      const mine = events.events.filter((e) => e.transactionId === id);
      const values = mine.filter((e) => e.type === 'notification').map((e) => e.data.notificationValue);
      assert.deepEqual(values, runsOf(id)[0]!.notifications);
      assert.equal(mine.at(-1)!.type, 'transaction', 'the outcome comes after the last notification');
      assert.equal(mine.at(-1)!.data.state, 'finished');
      // The same key with another request is refused.
      const other = await start('VT-1', { amount: 999, orderId: o.id }, key);
      assert.equal(other.status, 422, JSON.stringify(other.body));
    } finally {
      events.close();
    }
  });

  it('a declined sale changes nothing on its order', async () => {
    const o = await fx.order(locationId, { total: 800 });
    const r = await start('VT-DECLINE', { amount: 800, orderId: o.id });
    assert.equal(r.status, 202);
    const v = await settled(r.body.id);
    assert.equal(v.state, 'finished');
    assert.equal(v.result, 'DECLINED');
    assert.equal(v.paymentId, undefined);
    assert.equal((await order(o.id)).paidAmount, 0n);
    assert.equal((await paymentsOf(o.id)).length, 0);
  });

  it('a signature request goes to the listening POS, whose answer the terminal receives', async () => {
    const o = await fx.order(locationId, { total: 1500 });
    const events = await stream();
    try {
      const r = await start('VT-SIGNATURE', { amount: 1500, orderId: o.id });
      const id = r.body.id as string;
      const asked = await events.next((e) => e.transactionId === id && e.type === 'signature.requested', 'signature.requested');
      assert.equal(asked.tid, 'VT-SIGNATURE');
      const answer = await venue('POST', `/terminal-transactions/${id}/signature`, { accepted: true });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { accepted: true, by: 'pos' });
      const answered = await events.next((e) => e.transactionId === id && e.type === 'signature.answered', 'signature.answered');
      assert.equal(answered.data.by, 'pos');
      assert.equal(answered.data.accepted, true);
      const v = await settled(id);
      assert.equal(v.result, 'SUCCESSFUL');
      assert.equal(v.transaction.cardHolderVerificationMethod, 'SIGNATURE');
      assert.equal(runsOf(id)[0]!.signature?.answer, true, 'the terminal got the POS answer');
      assert.equal((await order(o.id)).paidAmount, 1500n);
      const late = await venue('POST', `/terminal-transactions/${id}/signature`, { accepted: false });
      assert.equal(late.status, 409);
    } finally {
      events.close();
    }
  });

  it('a signature request the POS leaves unanswered gets the venue default (decline) before Connect decides', async () => {
    const o = await fx.order(locationId, { total: 1600 });
    const events = await stream();
    try {
      const r = await start('VT-SIGNATURE', { amount: 1600, orderId: o.id });
      const id = r.body.id as string;
      await events.next((e) => e.transactionId === id && e.type === 'signature.requested', 'signature.requested');
      const answered = await events.next((e) => e.transactionId === id && e.type === 'signature.answered', 'signature.answered by the default', 10_000);
      assert.deepEqual([answered.data.by, answered.data.accepted], ['default', false]);
      const v = await settled(id);
      assert.equal(v.result, 'VOID');
      assert.equal(runsOf(id)[0]!.signature?.answer, false, 'the default reached the terminal, not Connect\'s own timeout');
      assert.equal((await order(o.id)).paidAmount, 0n);
    } finally {
      events.close();
    }
  });

  it('a transaction in progress is cancelled from the POS', async () => {
    const o = await fx.order(locationId, { total: 700 });
    const events = await stream();
    try {
      const r = await start('VT-CANCEL', { amount: 700, orderId: o.id });
      const id = r.body.id as string;
      await events.next((e) => e.transactionId === id && e.type === 'notification' && e.data.notificationValue === 'PRESENT_CARD', 'PRESENT_CARD');
      const c = await venue('POST', `/terminal-transactions/${id}/cancel`);
      assert.equal(c.status, 202, JSON.stringify(c.body));
      const v = await settled(id);
      assert.equal(v.result, 'CANCELLED');
      assert.equal(runsOf(id)[0]!.cancelRequested, true);
      assert.equal((await order(o.id)).paidAmount, 0n);
      const again = await venue('POST', `/terminal-transactions/${id}/cancel`);
      assert.equal(again.status, 409);
    } finally {
      events.close();
    }
  });

  it('a refund is written as refund and settled with the terminal\'s REFUND', async () => {
    const r = await start('VT-2', { kind: 'refund', amount: 650 });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const v = await settled(r.body.id);
    assert.equal(v.result, 'SUCCESSFUL');
    assert.equal(v.transaction.transactionType, 'REFUND');
    assert.equal(v.transaction.amountBase, 650);
    const sent = sim.pac.requests.filter((q) => q.id === r.body.id);
    assert.deepEqual(sent.map((q) => [q.method, q.params]), [['refund', { tid: 'VT-2', currency: 'GBP', amount: 650 }]]);
  });

  it('a refund of a counter sale, through the venue API and the terminal, comes off the payment and the order', async () => {
    const o = await fx.order(locationId, { total: 2000 });
    const sale = await start('VT-1', { amount: 2000, orderId: o.id });
    assert.equal((await settled(sale.body.id)).paymentId, sale.body.id);
    const tooMuch = await start('VT-2', { kind: 'refund', amount: 2001, refundOf: sale.body.id });
    assert.equal(tooMuch.status, 409, JSON.stringify(tooMuch.body));
    assert.equal(tooMuch.body.error, 'not_refundable');
    const notUuid = await start('VT-2', { kind: 'refund', amount: 500, refundOf: 'sale-1' });
    assert.equal(notUuid.status, 400, JSON.stringify(notUuid.body));
    const r = await start('VT-2', { kind: 'refund', amount: 500, refundOf: sale.body.id });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual([r.body.refundOf, r.body.orderId], [sale.body.id, o.id]);
    const v = await settled(r.body.id);
    assert.deepEqual([v.result, v.transaction.transactionType, v.paymentId], ['SUCCESSFUL', 'REFUND', sale.body.id]);
    const after = await order(o.id);
    assert.deepEqual([after.paidAmount, after.payable], [1500n, true], '500 of 2,000 refunded: 500 to pay again');
    assert.deepEqual((await paymentsOf(o.id)).map((p) => [p.paidAmount, p.refundedAmount, p.state]), [[2000n, 500n, 'Recorded']]);
  });

  it('a stuck terminal ends TIMED_OUT and nothing is recorded', async () => {
    const o = await fx.order(locationId, { total: 900 });
    const r = await start('VT-TIMEOUT', { amount: 900, orderId: o.id });
    const v = await settled(r.body.id);
    assert.equal(v.result, 'TIMED_OUT');
    assert.equal((await order(o.id)).paidAmount, 0n);
  });

  it('a link dropped mid-transaction: the terminal finishes, and the outcome is recovered with duplicate once the link is back', async () => {
    const o = await fx.order(locationId, { total: 1900 });
    const before = sim.pac.handshakes.filter((h) => h.status === 101 && h.accountId === accountId).length;
    const r = await start('VT-DISCONNECT', { amount: 1900, orderId: o.id });
    const id = r.body.id as string;
    const v = await settled(id);
    assert.equal(v.result, 'SUCCESSFUL');
    assert.ok(sim.pac.handshakes.filter((h) => h.status === 101 && h.accountId === accountId).length > before, 'the gateway dialled again');
    assert.equal(runsOf(id).length, 1);
    assert.equal(runsOf(id)[0]!.replied, false);
    assert.deepEqual((await paymentsOf(o.id)).map((p) => [p.paymentIntentId, p.paidAmount]), [[id, 1900n]]);
    // The POS's own duplicate: the terminal's last transaction, read back without running anything.
    const d = await venue('POST', '/terminals/VT-DISCONNECT/duplicate', undefined, { 'idempotency-key': randomUUID() });
    assert.equal(d.status, 202, JSON.stringify(d.body));
    const dv = await settled(d.body.id);
    assert.equal(dv.kind, 'duplicate');
    assert.equal(dv.result, 'SUCCESSFUL');
    assert.equal(dv.transaction.amountBase, 1900);
    assert.equal(runsOf(id).length, 1);
    assert.equal((await order(o.id)).paidAmount, 1900n, 'a duplicate records nothing again');
  });

  it('with two replicas hearing every command, only the owner writes it to the terminal, once', async () => {
    const holder = await owner();
    assert.ok(holder);
    assert.ok(gateways().length === 2);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await start(i % 2 ? 'VT-2' : 'VT-1', { amount: 100 + i * 100 });
      assert.equal(r.status, 202);
      ids.push(r.body.id);
    }
    for (const id of ids) assert.equal((await settled(id)).result, 'SUCCESSFUL');
    const rows = await db.prisma.counterTransaction.findMany({ where: { locationId, id: { in: ids } } });
    assert.deepEqual([...new Set(rows.map((t) => t.sentBy))], [holder], 'every command was sent by the lease holder');
    for (const id of ids) assert.equal(runsOf(id).length, 1, `transaction ${id} ran once`);
    const conns = new Set(ids.map((id) => runsOf(id)[0]!.connectionId));
    assert.equal(conns.size, 1, 'all on the owner\'s one socket');
    assert.equal(sim.pac.connections(accountId).length, 1);
  });

  it('a PAC link beside an EPOS Data location runs under the same lease, and its state is part of the location status', async () => {
    const sh = await db.prisma.softwareHouse.findFirstOrThrow();
    const pub = await fx.location({ softwareHouseId: sh.id, name: 'Pub with a counter', registrationState: 'not_required' });
    const pubRow = await db.prisma.location.update({ where: { id: pub.id }, data: { wsUrl: sim.wsUrl } });
    sim.addAccount({ apiKey: pub.apiKey, softwareHouseId: sh.dojoSoftwareHouseId, accountId: pubRow.dojoAccountId });
    const counterAccount = `pac-beside-${randomUUID().slice(0, 8)}`;
    sim.addAccount({ apiKey: BESIDE_TOKEN, softwareHouseId: sh.dojoSoftwareHouseId, accountId: counterAccount });
    const put = await operator('PUT', `/v1/locations/${pub.id}/counter-link`, { hostAddress: 'pubhost', environment: 'test', installerId: 'INST-PUB', token: BESIDE_TOKEN, wsUrl: sim.pacUrl });
    assert.ok(put.status === 200 || put.status === 201, put.text);
    const st = await waitFor(async () => {
      const x = await statusOf(pub.id);
      return x?.state === 'open' && x.counter?.state === 'open' ? x : undefined;
    }, 'both links of the pub open', 20_000);
    assert.equal(st.profile, 'epos-data');
    const holder = await owner(pub.id);
    assert.equal(st.replicaId, holder, 'one replica holds both links');
    assert.equal(sim.pac.connections(counterAccount).length, 1);
    assert.equal(sim.connectionsFor(pubRow.dojoAccountId), 1);
    // A sale on the pub's counter link goes through the same path.
    const issued = await operator('POST', `/v1/locations/${pub.id}/venue-tokens`, { name: 'pub till' });
    const r = await fetch(`${api}/venue/v1/locations/${pub.id}/terminals/VT-2/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issued.body.token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ kind: 'sale', amount: 4200 }),
    });
    assert.equal(r.status, 202);
    const id = ((await r.json()) as View).id as string;
    await waitFor(async () => (await db.prisma.counterTransaction.findUniqueOrThrow({ where: { id } })).state === 'finished', 'the pub sale finished', 15_000);
    assert.equal(sim.pac.runs.filter((x) => x.requestId === id && x.accountId === counterAccount).length, 1);
    // Removing the link closes only the PAC socket.
    assert.equal((await operator('DELETE', `/v1/locations/${pub.id}/counter-link`)).status, 204);
    await waitFor(async () => sim.pac.connections(counterAccount).length === 0 && (await statusOf(pub.id))?.counter === undefined, 'the counter link closed', 10_000);
    assert.equal(sim.connectionsFor(pubRow.dojoAccountId), 1, 'the EPOS Data link stays');
  });

  it('the owner killed with SIGKILL mid-transaction: the other replica recovers the outcome with duplicate, recorded once', async () => {
    const o = await fx.order(locationId, { total: 2500 });
    sim.pac.configure({ stepDelayMs: 250 });
    try {
      const holder = await owner();
      const victim = gateways().find((g) => g.out.join('').includes(`"replicaId":"${holder}"`));
      assert.ok(victim, 'the owning replica is one of ours');
      const events = await stream();
      let id: string;
      try {
        const r = await start('VT-1', { amount: 2500, orderId: o.id });
        id = r.body.id as string;
        await events.next((e) => e.transactionId === id && e.type === 'notification' && e.data.notificationValue === 'PRESENT_CARD', 'PRESENT_CARD');
      } finally {
        events.close();
      }
      victim.child.kill('SIGKILL');
      await victim.exited;
      const v = await settled(id, 30_000);
      assert.equal(v.result, 'SUCCESSFUL');
      const newOwner = await owner();
      assert.notEqual(newOwner, holder);
      const sentBy = victim.out
        .join('')
        .split('\n')
        .filter((l) => l.includes(`"transactionId":"${id}"`) && l.includes('PAC request sent'));
      assert.equal(sentBy.length, 1, 'written to the terminal by the replica that died');
      const row = await db.prisma.counterTransaction.findUniqueOrThrow({ where: { id } });
      assert.equal(row.sentBy, newOwner, 'claimed for recovery by the new owner');
      const states = v.events.filter((e: CounterEvent) => e.type === 'transaction').map((e: CounterEvent) => e.data.state);
      assert.deepEqual(states, ['accepted', 'sent', 'recovering', 'finished']);
      assert.equal(runsOf(id).length, 1, 'the sale ran once; the new owner only read it back');
      assert.equal(runsOf(id)[0]!.replied, false, 'its reply found no socket');
      assert.ok(sim.pac.requests.some((q) => q.method === 'duplicate' && (q.params as { tid?: string })?.tid === 'VT-1'), 'recovered with duplicate');
      assert.equal((await order(o.id)).paidAmount, 2500n);
      assert.deepEqual((await paymentsOf(o.id)).map((p) => p.paymentIntentId), [id]);
    } finally {
      sim.pac.configure({ stepDelayMs: 25 });
    }
  });

  it('never writes the Connect token in a log line', () => {
    const all = apps.flatMap((a) => a.out).join('');
    assert.ok(all.length > 0);
    assert.ok(!all.includes(TOKEN), 'the Connect token appears in a log line');
    assert.ok(!all.includes(BESIDE_TOKEN), 'the counter link token appears in a log line');
    assert.ok(all.includes('token=***'), 'the dialled URL is logged redacted');
  });
});
