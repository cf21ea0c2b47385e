/**
 * Pay at counter's venue API and event stream through the real admin and
 * worker apps (Postgres, Redis, BullMQ). The gateway's side is played by the
 * port it calls (TakeCounterWork), the settle queue and the RPC queue with
 * dialect connect-pac, exactly as the gateway's counter pump uses them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import pg from 'pg';
import type { RunningApp } from '@app/common';
import { createLogger, createRedis } from '@app/common';
import type { ConnectPac, CounterCommandMessage, CounterEvent, CounterTerminalsSnapshot } from '@app/contracts';
import { CounterChannels, counterTerminalsKey } from '@app/contracts';
import { TakeCounterWork } from '@app/domain/counter';
import { connectionStatusKey, enqueueCounterSettle, JobEnqueuer, RedisCounterSignals, RpcClient } from '@app/queue';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startWorker } from '../../../apps/worker/src/main';

const TOKEN = 'operator-token-counter-venue-01';
const logger = createLogger('counter-venue-test', process.env.TEST_LOG_LEVEL ?? 'silent');

/** A Server-Sent Events reader over fetch: events as they arrive, and the comments seen. */
async function openStream(url: string, token: string, lastEventId?: string) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: ctrl.signal });
  assert.equal(res.status, 200, await (res.status === 200 ? Promise.resolve('') : res.text()));
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: { id: string; event: string; data: CounterEvent }[] = [];
  let comments = 0;
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return;
        buf += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (frame.startsWith(':')) {
            comments++;
            continue;
          }
          const f: Record<string, string> = {};
          for (const line of frame.split('\n')) {
            const c = line.indexOf(':');
            f[line.slice(0, c)] = line.slice(c + 2);
          }
          events.push({ id: f.id!, event: f.event!, data: JSON.parse(f.data!) as CounterEvent });
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    events,
    /** Settles when the stream ends: closed here, or ended by the server. */
    ended: done,
    get comments() {
      return comments;
    },
    close: async () => {
      ctrl.abort();
      await done;
    },
  };
}

describe('pay at counter: venue API and event stream', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let admin: RunningApp;
  let worker: RunningApp;
  let redis: Redis;
  let prefix: string;
  let rpc: RpcClient;
  let jobs: JobEnqueuer;
  let take: TakeCounterWork;
  let loc: string;
  let plain: string;
  let token = '';
  let plainToken = '';

  const venue = (l = loc) => `/venue/v1/locations/${l}`;
  const call = async (method: string, path: string, o: { token?: string; body?: unknown; key?: string } = {}) => {
    const res = await fetch(`${admin.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${o.token ?? token}`,
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(o.key ? { 'idempotency-key': o.key } : {}),
      },
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text)) : undefined };
  };
  const pacRequest = (method: 'terminalNotification' | 'signatureVerificationRequest', params: object, deadline = Date.now() + 30_000) =>
    rpc.call({
      locationId: loc,
      dialect: 'connect-pac',
      method,
      mutates: false,
      rpcId: `${method}:${randomUUID()}`,
      params,
      deadline,
      traceId: randomUUID(),
      fence: 1,
    });

  before(async () => {
    db = await createTestDatabase('countervenue');
    fx = fixtures(db.prisma);
    prefix = uniquePrefix('countervenue');
    loc = (
      await fx.location({
        name: 'Counter Cafe',
        protocol: 'connect-pac',
        protocolSettings: { hostAddress: 'cafe', environment: 'test', installerId: 'inst', signatureDefault: 'decline', signatureWaitMs: 10_000 },
        registrationState: 'not_required',
      })
    ).id;
    plain = (await fx.location({ name: 'Plain Pub' })).id;
    await fx.order(loc, { id: 'ord-1', total: 4200 });
    const env = appEnv(db, { QUEUE_PREFIX: prefix, ADMIN_OPERATOR_TOKENS: TOKEN, COUNTER_ACCEPT_TTL_MS: '60000' });
    admin = await startAdmin(env);
    worker = await startWorker(env);
    const issue = async (l: string) => {
      const res = await fetch(`${admin.url}/v1/locations/${l}/venue-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pos' }),
      });
      return ((await res.json()) as { token: string }).token;
    };
    token = await issue(loc);
    plainToken = await issue(plain);
    redis = createRedis(testRedisUrl());
    rpc = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'test-gw' });
    await rpc.start();
    jobs = new JobEnqueuer({ redisUrl: testRedisUrl(), prefix });
    take = new TakeCounterWork({ prisma: db.prisma, signals: new RedisCounterSignals(redis, prefix, logger), log: logger });
  });

  after(async () => {
    await rpc?.close().catch(() => undefined);
    await jobs?.close().catch(() => undefined);
    redis?.disconnect();
    await worker?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await db?.drop();
  });

  it('is scoped to the venue: no token 401, another venue 403, a location without a PAC link 404 counter_not_configured', async () => {
    assert.equal((await call('GET', `${venue()}/terminals`, { token: 'vt_nope' })).status, 401);
    assert.equal((await call('GET', `${venue()}/terminals`, { token: plainToken })).status, 403);
    const r = await call('GET', `${venue(plain)}/terminals`, { token: plainToken });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'counter_not_configured');
    const s = await call('POST', `${venue(plain)}/terminals/T1/transactions`, { token: plainToken, key: 'k1', body: { kind: 'sale', amount: 100 } });
    assert.equal(s.status, 404);
    assert.equal((await call('GET', `${venue()}/terminals?bogus=1`)).status, 400, 'unknown query parameters are refused');
    const sse = await call('GET', `${venue(plain)}/terminal-events`, { token: plainToken });
    assert.equal(sse.status, 404, 'no stream without a PAC link');
    assert.equal(sse.body.error, 'counter_not_configured');
  });

  it('ends a stream whose venue token is revoked, within a poll; a stream on another token stays open', async () => {
    const res = await fetch(`${admin.url}/v1/locations/${loc}/venue-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'leaked till' }),
    });
    const leaked = (await res.json()) as { id: string; token: string };
    const doomed = await openStream(`${admin.url}/venue/v1/locations/${loc}/terminal-events`, leaked.token);
    const kept = await openStream(`${admin.url}/venue/v1/locations/${loc}/terminal-events`, token);
    try {
      let ended = false;
      void doomed.ended.then(() => (ended = true));
      const revoked = await fetch(`${admin.url}/v1/locations/${loc}/venue-tokens/${leaked.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.ok(revoked.status < 300, `revoked (${revoked.status})`);
      await waitFor(() => ended || undefined, 'the revoked token\'s stream ended', 8_000, 50);
      let keptEnded = false;
      void kept.ended.then(() => (keptEnded = true));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(keptEnded, false, 'the other token\'s stream is still open');
    } finally {
      await doomed.close();
      await kept.close();
    }
  });

  it('a stream whose client leaves while it is still being set up starts nothing: no listening POS stays marked', async () => {
    const signals = new RedisCounterSignals(redis, prefix, logger);
    await waitFor(async () => !(await signals.listening(loc)) || undefined, 'no stream of the location open');
    // The stream's first reads (its head) wait behind this lock while the client goes away.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    const ctrl = new AbortController();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE counter_events IN ACCESS EXCLUSIVE MODE');
      const gone = fetch(`${admin.url}${venue()}/terminal-events`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal }).catch(() => undefined);
      await waitFor(async () => {
        const r = await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        );
        return r.rows[0]!.n > 0 || undefined;
      }, "the stream's reads waiting on the lock");
      ctrl.abort();
      await gone;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      ctrl.abort();
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end();
    }
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await signals.listening(loc), false, 'the location is not marked as having a listening POS');
  });

  it('lists the terminals the owning gateway read, with the link state; refresh waits for a newer read', async () => {
    const snap = (at: Date, tids: string[]): CounterTerminalsSnapshot => ({
      locationId: loc,
      observedAt: at.toISOString(),
      replicaId: 'gw-1',
      terminals: tids.map((tid) => ({ tid, status: 'AVAILABLE', currency: 'GBP' })),
    });
    await redis.set(counterTerminalsKey(prefix, loc), JSON.stringify(snap(new Date(Date.now() - 10_000), ['VT-1'])), 'EX', 60);
    await redis.set(connectionStatusKey(prefix, loc), JSON.stringify({ locationId: loc, state: 'open', since: new Date().toISOString(), profile: 'connect-pac', reconnects: 0, requestsServed: 0 }), 'EX', 60);
    const r = await call('GET', `${venue()}/terminals`);
    assert.equal(r.status, 200);
    assert.equal(r.body.link.state, 'open');
    assert.deepEqual(r.body.terminals, [{ tid: 'VT-1', status: 'AVAILABLE', currency: 'GBP' }]);

    // A gateway answering refresh_terminals with a newer read.
    const gw = createRedis(testRedisUrl());
    await gw.subscribe(CounterChannels.commands(prefix));
    gw.on('message', (_c, m) => {
      const msg = JSON.parse(m) as CounterCommandMessage;
      if (msg.locationId === loc && msg.what === 'refresh_terminals') void redis.set(counterTerminalsKey(prefix, loc), JSON.stringify(snap(new Date(), ['VT-1', 'VT-2'])), 'EX', 60);
    });
    const fresh = await call('GET', `${venue()}/terminals?refresh=true`);
    gw.disconnect();
    assert.equal(fresh.status, 200);
    assert.deepEqual(fresh.body.terminals.map((t: { tid: string }) => t.tid), ['VT-1', 'VT-2']);
  });

  it('starts a sale once per Idempotency-Key: 202, a retry 200 with the same transaction, another body 422', async () => {
    const body = { kind: 'sale', amount: 500 };
    assert.equal((await call('POST', `${venue()}/terminals/VT-9/transactions`, { body })).status, 400, 'the key is required');
    const a = await call('POST', `${venue()}/terminals/VT-9/transactions`, { body, key: 'idem-a' });
    assert.equal(a.status, 202);
    assert.equal(a.body.state, 'accepted');
    assert.equal(a.body.amount, 500);
    assert.equal(a.body.currency, 'GBP');
    const b = await call('POST', `${venue()}/terminals/VT-9/transactions`, { body, key: 'idem-a' });
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
    const c = await call('POST', `${venue()}/terminals/VT-9/transactions`, { body: { ...body, amount: 501 }, key: 'idem-a' });
    assert.equal(c.status, 422);
    assert.equal(c.body.error, 'idempotency_key_reused');
    assert.equal((await call('POST', `${venue()}/terminals/VT-9/transactions`, { body: { kind: 'sale', amount: 5.5 }, key: 'idem-b' })).status, 400);
    assert.equal((await call('POST', `${venue()}/terminals/VT-9/transactions`, { body: { kind: 'sale', amount: 100, orderId: 'ord-1' }, key: 'idem-c', token: plainToken })).status, 403);
    const over = await call('POST', `${venue()}/terminals/VT-9/transactions`, { body: { kind: 'sale', amount: 9999, orderId: 'ord-1' }, key: 'idem-d' });
    assert.equal(over.status, 409);
    assert.equal(over.body.error, 'order_not_payable');
    const dup = await call('POST', `${venue()}/terminals/VT-9/duplicate`, { key: 'idem-dup' });
    assert.equal(dup.status, 202);
    assert.equal(dup.body.kind, 'duplicate');
    // Not sent yet: a cancel fails them at once; once ended, 409.
    const x = await call('POST', `${venue()}/terminal-transactions/${a.body.id}/cancel`);
    assert.equal(x.status, 202);
    assert.equal(x.body.failure, 'cancelled_before_sending');
    assert.equal((await call('POST', `${venue()}/terminal-transactions/${a.body.id}/cancel`)).status, 409);
    await call('POST', `${venue()}/terminal-transactions/${dup.body.id}/cancel`);
    assert.equal((await call('GET', `${venue(plain)}/terminal-transactions/${a.body.id}`, { token: plainToken })).status, 404, "another venue cannot read it through its own path");
  });

  it('streams a sale against an order: notifications, a signature the POS answers, the result with its receipt, the payment recorded once; replays after Last-Event-ID', async () => {
    const stream = await openStream(`${admin.url}${venue()}/terminal-events`, token);
    const s = await call('POST', `${venue()}/terminals/VT-1/transactions`, { body: { kind: 'sale', amount: 4200, orderId: 'ord-1' }, key: 'pay-1' });
    assert.equal(s.status, 202);
    const id = s.body.id as string;
    // The gateway's pump: claim, send, notifications, a signature request, the reply, settle.
    const work = await take.takeWork(loc, { fence: 1, replicaId: 'gw-1', inFlight: [] });
    assert.deepEqual(work, [{ op: 'send', transactionId: id, kind: 'sale', tid: 'VT-1', amount: 4200, currency: 'GBP' }]);
    for (const v of ['TRANSACTION_STARTED', 'PRESENT_CARD', 'SIGNATURE_VERIFICATION']) {
      const r = await pacRequest('terminalNotification', { tid: 'VT-1', notificationValue: v });
      assert.deepEqual((r as { result?: unknown }).result, {});
    }
    const answer = pacRequest('signatureVerificationRequest', { tid: 'VT-1', receiptLines: { MERCHANT: [{ type: 'TEXT', value: 'SIGNATURE' }] } });
    const asked = await waitFor(() => stream.events.find((e) => e.event === 'signature.requested'), 'the signature request on the stream');
    assert.equal(asked.data.transactionId, id);
    assert.equal(asked.data.data.default, 'decline');
    const pos = await call('POST', `${venue()}/terminal-transactions/${id}/signature`, { body: { accepted: true } });
    assert.deepEqual(pos.body, { accepted: true, by: 'pos' });
    assert.deepEqual((await answer), { jsonrpc: '2.0', id: (await answer).id, result: { accepted: true } });
    const again = await call('POST', `${venue()}/terminal-transactions/${id}/signature`, { body: { accepted: false } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'signature_already_answered');
    assert.deepEqual(again.body.applied, { accepted: true, by: 'pos' });

    const transaction: ConnectPac.PacTransaction = {
      tid: 'VT-1', transactionType: 'SALE', transactionResult: 'SUCCESSFUL', currency: 'GBP', amountBase: 4200, amountGratuity: 300, amountTotal: 4500,
      cardHolderVerificationMethod: 'SIGNATURE', transactionTime: new Date().toISOString(),
      receiptLines: { CUSTOMER: [{ type: 'TEXT', value: 'THANK YOU' }], MERCHANT: [{ type: 'TEXT', value: 'MERCHANT COPY' }] },
    };
    const job = { locationId: loc, transactionId: id, outcome: { kind: 'transaction' as const, transaction }, replicaId: 'gw-1', traceId: randomUUID() };
    await Promise.all([enqueueCounterSettle(jobs, job), enqueueCounterSettle(jobs, job)]);
    const final = await waitFor(() => stream.events.find((e) => e.event === 'transaction' && e.data.data.state === 'finished'), 'the result on the stream', 15_000);
    assert.equal(final.data.data.paymentId, id);
    assert.deepEqual(final.data.data.receiptLines, transaction.receiptLines);

    const types = stream.events.map((e) => (e.event === 'notification' ? `n:${e.data.data.notificationValue as string}` : e.event === 'transaction' ? `t:${e.data.data.state as string}` : e.event));
    assert.deepEqual(types, ['t:accepted', 't:sent', 'n:TRANSACTION_STARTED', 'n:PRESENT_CARD', 'n:SIGNATURE_VERIFICATION', 'signature.requested', 'signature.answered', 't:finished']);
    assert.ok(stream.events.every((e) => e.id === e.data.id && e.data.locationId === loc));

    const order = await call('GET', `${venue()}/orders/ord-1`);
    assert.equal(order.body.paidAmount, 4200);
    assert.equal(order.body.payments.length, 1);
    assert.equal(order.body.payments[0].paymentIntentId, id);

    const read = await call('GET', `${venue()}/terminal-transactions/${id}`);
    assert.equal(read.body.state, 'finished');
    assert.equal(read.body.result, 'SUCCESSFUL');
    assert.equal(read.body.lastNotification, 'SIGNATURE_VERIFICATION');
    assert.equal(read.body.events.length, 8);
    const list = await call('GET', `${venue()}/terminal-transactions?tid=VT-1&state=finished&limit=5`);
    assert.deepEqual(list.body.items.map((t: { id: string }) => t.id), [id]);
    assert.equal((await call('POST', `${venue()}/terminal-transactions/${id}/cancel`)).status, 409);

    // A POS that dropped after the third event resumes from it: the rest, in order, nothing twice.
    await stream.close();
    const resumed = await openStream(`${admin.url}${venue()}/terminal-events`, token, stream.events[2]!.id);
    await waitFor(() => resumed.events.length >= 5 || undefined, 'the replay');
    assert.deepEqual(resumed.events.map((e) => e.id), stream.events.slice(3).map((e) => e.id));
    await resumed.close();
    const bad = await fetch(`${admin.url}${venue()}/terminal-events?after=nope`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(bad.status, 400);
  });

  it('a stream opened while an older transaction of the cluster still runs starts now: what committed before it opened is not sent', async () => {
    // An open transaction with an xid holds the cluster's snapshot xmin below the events committed after it began.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    let stream: Awaited<ReturnType<typeof openStream>> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      const early = await call('POST', `${venue()}/terminals/VT-3/transactions`, { body: { kind: 'sale', amount: 110 }, key: 'xmin-early' });
      assert.equal(early.status, 202);
      stream = await openStream(`${admin.url}${venue()}/terminal-events`, token);
      const late = await call('POST', `${venue()}/terminals/VT-3/transactions`, { body: { kind: 'sale', amount: 120 }, key: 'xmin-late' });
      assert.equal(late.status, 202);
      await holder.query('COMMIT');
      const s = stream;
      await waitFor(() => s.events.find((e) => e.data.transactionId === late.body.id), 'the later transaction on the stream');
      assert.deepEqual(s.events.filter((e) => e.data.transactionId === early.body.id), [], 'an event committed before the stream opened');
      for (const id of [early.body.id, late.body.id]) await call('POST', `${venue()}/terminal-transactions/${id as string}/cancel`);
    } finally {
      await holder.end();
      await stream?.close();
    }
  });

  it('applies the default when no POS listens, and answers no_signature_request before any', async () => {
    const s = await call('POST', `${venue()}/terminals/VT-2/transactions`, { body: { kind: 'refund', amount: 300 }, key: 'sig-default' });
    const id = s.body.id as string;
    await take.takeWork(loc, { fence: 1, replicaId: 'gw-1', inFlight: [] });
    const none = await call('POST', `${venue()}/terminal-transactions/${id}/signature`, { body: { accepted: true } });
    assert.equal(none.status, 409);
    assert.equal(none.body.error, 'no_signature_request');
    const t0 = Date.now();
    const r = await pacRequest('signatureVerificationRequest', { tid: 'VT-2' });
    assert.deepEqual((r as { result?: unknown }).result, { accepted: false });
    assert.ok(Date.now() - t0 < 5_000, 'at once, not after signatureWaitMs (10 s)');
    const late = await call('POST', `${venue()}/terminal-transactions/${id}/signature`, { body: { accepted: true } });
    assert.equal(late.status, 409);
    assert.deepEqual(late.body.applied, { accepted: false, by: 'default' });
  });

  it("a listening POS's time to answer a signature ends before the request's deadline: the default is answered in time", async () => {
    // A request that waited in the queue, or a short GATEWAY_DEADLINE_OVERRIDE_MS: 4 s left, signatureWaitMs is 10 s.
    const stream = await openStream(`${admin.url}${venue()}/terminal-events`, token);
    try {
      const s = await call('POST', `${venue()}/terminals/VT-4/transactions`, { body: { kind: 'refund', amount: 400 }, key: 'sig-deadline' });
      const id = s.body.id as string;
      await take.takeWork(loc, { fence: 1, replicaId: 'gw-1', inFlight: [] });
      const deadline = Date.now() + 4_000;
      const r = await pacRequest('signatureVerificationRequest', { tid: 'VT-4' }, deadline);
      assert.deepEqual((r as { result?: unknown }).result, { accepted: false }, "the default, not the gateway's error at its deadline");
      assert.ok(Date.now() < deadline, 'answered before the deadline');
      const asked = await waitFor(() => stream.events.find((e) => e.event === 'signature.requested' && e.data.transactionId === id), 'the request on the stream');
      assert.ok(Date.parse(asked.data.data.answerBy as string) < deadline, 'the POS is told to answer before the deadline');
      const late = await call('POST', `${venue()}/terminal-transactions/${id}/signature`, { body: { accepted: true } });
      assert.equal(late.status, 409, 'a POS answer after it is not taken');
      assert.deepEqual(late.body.applied, { accepted: false, by: 'default' });
    } finally {
      await stream.close();
    }
  });
});
