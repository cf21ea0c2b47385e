/**
 * Pay at counter's domain on real Postgres and Redis: the gateway's port
 * (TakeCounterWork) under concurrent callers, the worker's settle (exactly
 * once, payment recorded once through RecordOrderPayment, refusals), the
 * connect-pac dialect's signature default and POS answer, idempotent starts,
 * cancels, and the settle consumer through the real queue.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createLogger, createRedis } from '@app/common';
import type { CounterEvent, CounterSettleJob, CounterWork } from '@app/contracts';
import { ConnectPac, CounterChannels, isFailure } from '@app/contracts';
import {
  AnswerCardholderSignature, CancelCounterTransaction, GetCounterTransaction, ReadCounterEvents, RecordTerminalNotification, ResolveCounterTransaction, SettleCounterTransaction,
  StartCounterTransaction, TakeCounterWork, VerifyCardholderSignature,
} from '@app/domain/counter';
import type { CounterDeps } from '@app/domain/counter';
import { DomainError } from '@app/domain/admin';
import { CreatePaymentIntent } from '@app/domain/payment-intents';
import { ordersRepo } from '@app/domain/repositories/orders.repository';
import { CounterSettleWorker, enqueueCounterSettle, JobEnqueuer, RedisCounterSignals } from '@app/queue';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { rpcJob } from '../worker/fixtures';

const logger = createLogger('counter-test', process.env.TEST_LOG_LEVEL ?? 'silent');

const pacSettings = (over: Record<string, string | number> = {}) => ({
  hostAddress: 'venue1',
  environment: 'test',
  installerId: 'inst-1',
  signatureDefault: 'decline',
  signatureWaitMs: 2_000,
  ...over,
});

function approved(amountBase: number, over: Partial<ConnectPac.PacTransaction> = {}): ConnectPac.PacTransaction {
  return {
    transactionType: 'SALE',
    transactionResult: 'SUCCESSFUL',
    currency: 'GBP',
    amountBase,
    amountGratuity: 150,
    amountTotal: amountBase + 150,
    transactionTime: new Date().toISOString(),
    receiptLines: { MERCHANT: [{ type: 'TEXT', value: 'APPROVED' }], CUSTOMER: [{ type: 'TEXT', value: 'APPROVED' }] },
    ...over,
  };
}

async function expectDomainError(p: Promise<unknown>, kind: DomainError['kind'], code?: string): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (code) assert.equal(err.details.error, code, err.message);
    return err;
  }
  assert.fail(`expected ${kind}${code ? ` ${code}` : ''}`);
}

describe('pay at counter: domain on Postgres and Redis', () => {
  let db: TestDatabase;
  let redis: Redis;
  let sub: Redis;
  let prefix: string;
  let deps: CounterDeps;
  let loc: string;
  let other: string;
  let fx: ReturnType<typeof fixtures>;
  /** A fresh connect-pac venue with ord-1 (5000), ord-2 (3000), ord-3 (2000) and a canceled order, so tests never share work. */
  const venue = async (settings: Record<string, string | number> = {}) => {
    const id = (await fx.location({ name: 'Counter', protocol: 'connect-pac', protocolSettings: pacSettings(settings), registrationState: 'not_required' })).id;
    await fx.order(id, { id: 'ord-1', total: 5000 });
    await fx.order(id, { id: 'ord-2', total: 3000 });
    await fx.order(id, { id: 'ord-3', total: 2000 });
    await fx.order(id, { id: 'ord-closed', total: 3000, status: 'Canceled' });
    return id;
  };
  const owner = (replicaId: string, fence = 1, inFlight: string[] = []) => ({ replicaId, fence, inFlight });

  before(async () => {
    db = await createTestDatabase('counter');
    redis = createRedis(testRedisUrl());
    sub = createRedis(testRedisUrl());
    prefix = uniquePrefix('counter');
    deps = { prisma: db.prisma, signals: new RedisCounterSignals(redis, prefix, logger), log: logger };
    fx = fixtures(db.prisma);
    other = await venue({ signatureDefault: 'accept' });
  });
  after(async () => {
    sub?.disconnect();
    redis?.disconnect();
    await db?.drop();
  });

  /** CreatePaymentIntent with a Dojo that records and refuses every call: for refusals that must come before Dojo is asked. */
  const intentsWithoutDojo = () => {
    const dojoCalls: string[] = [];
    const dojo = new Proxy({}, { get: (_t, prop) => () => { dojoCalls.push(String(prop)); throw new Error('Dojo must not be called'); } });
    const intents = new CreatePaymentIntent({ prisma: db.prisma, dojo: dojo as never, credentials: { forLocation: async () => ({ apiKey: 'sk_sandbox_x' }) }, checkoutBase: 'http://checkout', firstCheckAfterMs: 60_000, log: logger });
    return { intents, dojoCalls };
  };
  const start = (key: string, body: Partial<Parameters<StartCounterTransaction['execute']>[1]> & { tid: string }, at = loc) =>
    new StartCounterTransaction(deps).execute(at, { idempotencyKey: key, kind: 'sale', amount: 1000n, ...body });
  const settle = (transactionId: string, outcome: CounterSettleJob['outcome'], at = loc) =>
    new SettleCounterTransaction(deps).execute({ locationId: at, transactionId, outcome, replicaId: 'r1', traceId: 'trace' });

  it('a start is idempotent per key: the same request answers the same transaction, another request is 422', async () => {
    loc = await venue();
    const a = await start('idem-1', { tid: 'T-IDEM' });
    assert.equal(a.created, true);
    assert.equal(a.view.state, 'accepted');
    assert.equal(a.view.currency, 'GBP', "the location's currency by default");
    const b = await start('idem-1', { tid: 'T-IDEM' });
    assert.equal(b.created, false);
    assert.equal(b.view.id, a.view.id);
    await expectDomainError(start('idem-1', { tid: 'T-IDEM', amount: 1001n }), 'unprocessable', 'idempotency_key_reused');
    // Ten concurrent retries of one new key: one transaction.
    const many = await Promise.all(Array.from({ length: 10 }, () => start('idem-2', { tid: 'T-IDEM2' })));
    assert.equal(new Set(many.map((m) => m.view.id)).size, 1);
    assert.equal(many.filter((m) => m.created).length, 1);
  });

  it('a sale against an order: the order must exist here and the amount fit what is outstanding net of running sales', async () => {
    loc = await venue();
    await expectDomainError(start('ord-a', { tid: 'T-ORD', orderId: 'nope' }), 'not_found');
    await expectDomainError(start('ord-b', { tid: 'T-ORD', orderId: 'ord-2', amount: 3001n }), 'conflict', 'order_not_payable');
    await expectDomainError(start('ord-c', { tid: 'T-ORD', orderId: 'ord-closed', amount: 100n }), 'conflict', 'order_not_payable');
    await expectDomainError(start('ord-d', { tid: 'T-ORD', orderId: 'ord-2', amount: 100n, currency: 'EUR' }), 'conflict', 'order_not_payable');
    const first = await start('ord-e', { tid: 'T-ORD', orderId: 'ord-2', amount: 2000n });
    assert.equal(first.created, true);
    // 1000 is left while the first sale runs; 1500 is refused, 1000 fits.
    await expectDomainError(start('ord-f', { tid: 'T-ORD2', orderId: 'ord-2', amount: 1500n }), 'conflict', 'order_not_payable');
    const cancelled = await new CancelCounterTransaction(deps).execute(loc, first.view.id);
    assert.equal(cancelled.state, 'failed');
    assert.equal(cancelled.failure, 'cancelled_before_sending');
    assert.equal((await start('ord-g', { tid: 'T-ORD2', orderId: 'ord-2', amount: 3000n })).created, true, 'a cancelled sale no longer counts');
    await expectDomainError(start('bad-1', { tid: 'T-X', amount: 0n }), 'invalid');
    await expectDomainError(start('bad-2', { tid: 'T-X', kind: 'refund', amountCashback: 100n }), 'invalid');
    await expectDomainError(new StartCounterTransaction(deps).execute(loc, { idempotencyKey: 'bad-3', kind: 'duplicate', tid: 'T-X', amount: 5n }), 'invalid');
  });

  it('concurrent takeWork callers never both get an item, and a terminal runs one transaction at a time', async () => {
    const race = await venue();
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push((await start(`race-${i}`, { tid: `T${i % 6}`, amount: BigInt(100 + i) }, race)).view.id);
    const take = new TakeCounterWork(deps);
    const sentTo = new Map<string, string[]>();
    const replicas = ['a', 'b', 'c'] as const;
    // Three replicas, each sure it owns the venue (its own fence; each tracks what it was given), call at once, round after round.
    const flying: Record<string, string[]> = { a: [], b: [], c: [] };
    for (let round = 0; round < 8; round++) {
      const results = await Promise.all(replicas.map((r, i) => take.takeWork(race, owner(r, 10 + i, flying[r])).then((w) => ({ r, w }))));
      const recoveredNow = new Map<string, string[]>();
      for (const { r, w } of results) {
        for (const item of w) {
          if (item.op === 'send') sentTo.set(item.transactionId, [...(sentTo.get(item.transactionId) ?? []), r]);
          if (item.op === 'recover') recoveredNow.set(item.transactionId, [...(recoveredNow.get(item.transactionId) ?? []), r]);
          flying[r]!.push(item.transactionId);
        }
      }
      const sentNow = results.flatMap((x) => x.w.filter((w): w is Extract<CounterWork, { op: 'send' }> => w.op === 'send'));
      const tids = sentNow.map((w) => w.tid);
      assert.equal(new Set(tids).size, tids.length, `one transaction per terminal per round: ${tids.join(',')}`);
      // A recover handed to two replicas at once goes from the lower fence to the higher only (a handover), never back.
      for (const [id, who] of recoveredNow) assert.deepEqual(who, [...who].sort(), `${id} recovered by ${who.join(' then ')}`);
      // Every replica settles what it was given (the terminal answered), then forgets it.
      for (const { w } of results) for (const item of w) await settle(item.transactionId, { kind: 'transaction', transaction: approved(100) }, race);
      for (const r of replicas) flying[r] = [];
    }
    assert.equal(sentTo.size, 24, 'every command was sent');
    for (const [id, who] of sentTo) assert.equal(who.length, 1, `${id} was sent by ${who.join(' and ')}`);
    assert.deepEqual([...sentTo.keys()].sort(), [...ids].sort());
  });

  it('a transaction the owner does not track is recovered by the next owner, once', async () => {
    loc = await venue();
    const a = await start('rec-1', { tid: 'T-REC', amount: 700n });
    const take = new TakeCounterWork(deps);
    const [sent] = await take.takeWork(loc, owner('old', 1));
    assert.equal(sent?.op, 'send');
    assert.deepEqual(await take.takeWork(loc, owner('old', 1, [a.view.id])), [], 'tracked by its sender: nothing to do');
    const [both1, both2] = await Promise.all([take.takeWork(loc, owner('new', 2)), take.takeWork(loc, owner('new2', 3))]);
    const recovers = [...both1, ...both2].filter((w) => w.transactionId === a.view.id);
    assert.ok(recovers.length >= 1 && recovers.every((w) => w.op === 'recover'));
    assert.deepEqual(await take.takeWork(loc, owner('old', 1)), [], 'the replica that lost its lease never takes it back');
    const r = recovers[0] as Extract<CounterWork, { op: 'recover' }>;
    assert.equal(r.amount, 700);
    // The terminal's last transaction is an older one: not ours, so it never ran.
    const stale = await settle(a.view.id, { kind: 'recovered', transaction: approved(700, { transactionTime: new Date(Date.now() - 60_000).toISOString() }) });
    assert.equal(stale.kind, 'settled');
    assert.equal(stale.kind === 'settled' && stale.view.failure, 'not_executed');

    const b = await start('rec-2', { tid: 'T-REC', amount: 800n });
    await take.takeWork(loc, owner('old', 1));
    await take.takeWork(loc, owner('new', 2));
    const ok = await settle(b.view.id, { kind: 'recovered', transaction: approved(800) });
    assert.equal(ok.kind === 'settled' && ok.view.state, 'finished');
    assert.equal(ok.kind === 'settled' && ok.view.result, 'SUCCESSFUL');
    const late = await settle(b.view.id, { kind: 'transaction', transaction: approved(800) });
    assert.equal(late.kind, 'already', 'the late reply of the old owner changes nothing');
  });

  it("a sale that never reached the terminal is not taken for the one before it of the same amount, nor one duplicate for two", async () => {
    loc = await venue();
    const take = new TakeCounterWork(deps);
    const o = await fx.order(loc, { total: 700 });
    // Sale A ran and its reply settled it.
    const a = await start('dup-a', { tid: 'T-DUP', amount: 350n, orderId: o.id });
    await take.takeWork(loc, owner('gw', 1));
    const ranA = approved(350, { transactionId: 'TERM-TX-1', transactionNumber: '000041', transactionTime: ConnectPac.connectTimeOf(new Date()) });
    assert.equal((await settle(a.view.id, { kind: 'transaction', transaction: ranA })).kind, 'settled');
    // Sale B of the same amount, claimed a moment later but never written: the next owner recovers it, and the
    // terminal's last transaction is still A's, well within the clock slack.
    const b = await start('dup-b', { tid: 'T-DUP', amount: 350n, orderId: o.id });
    await take.takeWork(loc, owner('gw', 1));
    const [rb] = await take.takeWork(loc, owner('gw2', 2));
    assert.equal(rb?.op, 'recover');
    const settledB = await settle(b.view.id, { kind: 'recovered', transaction: ranA });
    assert.equal(settledB.kind === 'settled' && settledB.view.failure, 'not_executed');
    assert.match(settledB.kind === 'settled' ? (settledB.view.message ?? '') : '', new RegExp(a.view.id));
    assert.equal((await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc, id: o.id } } })).paidAmount, 350n, 'A paid once; B recorded nothing');
    // Two transactions recovered at once with the same duplicate: at most one takes it.
    const c = await start('dup-c', { tid: 'T-DUP2', amount: 200n });
    await take.takeWork(loc, owner('gw2', 2));
    const d = await start('dup-d', { tid: 'T-DUP2', amount: 200n });
    await db.prisma.counterTransaction.update({ where: { id: d.view.id }, data: { state: 'recovering', sentAt: new Date(), sentBy: 'gw2' } });
    await db.prisma.counterTransaction.update({ where: { id: c.view.id }, data: { state: 'recovering' } });
    const shared = approved(200, { transactionId: 'TERM-TX-2', transactionTime: ConnectPac.connectTimeOf(new Date()) });
    const both = await Promise.all([settle(c.view.id, { kind: 'recovered', transaction: shared }), settle(d.view.id, { kind: 'recovered', transaction: shared })]);
    const finished = both.filter((x) => x.kind === 'settled' && x.view.state === 'finished');
    assert.equal(finished.length, 1, `one of the two takes the terminal's transaction: ${JSON.stringify(both.map((x) => x.kind === 'settled' && [x.view.state, x.view.failure]))}`);
  });

  it('a counter sale and a checkout link count each other: together they never ask more than the order owes', async () => {
    loc = await venue();
    // A checkout link for 2,000 of ord-2's 3,000: a counter sale may take only the 1,000 left.
    await db.prisma.paymentIntent.create({
      data: { locationId: loc, id: randomUUID(), paymentIntentId: 'pi_x', orderId: 'ord-2', idempotencyKey: 'k-x', requestHash: 'h', amount: 2000n, currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status: 'Created' },
    });
    const over = await expectDomainError(start('x-1', { tid: 'T-X1', orderId: 'ord-2', amount: 1500n }), 'conflict', 'order_not_payable');
    assert.match(over.message, /has 1000 GBP left to pay \(2000 in open payment intents\); 1500 is more/);
    assert.equal((await start('x-2', { tid: 'T-X1', orderId: 'ord-2', amount: 1000n })).created, true);

    // A counter sale of 1,500 of ord-3's 2,000 running: a new intent may ask only for the 500 left, refused before Dojo is called.
    await start('x-3', { tid: 'T-X2', orderId: 'ord-3', amount: 1500n });
    const { intents, dojoCalls } = intentsWithoutDojo();
    const refused = await expectDomainError(intents.execute(loc, { orderId: 'ord-3', idempotencyKey: 'k-y', amount: 1000n, tipsAllowed: false, captureMode: 'Auto' }), 'conflict');
    assert.match(refused.message, /more than the 500 left on order ord-3 \(outstanding 2000, 0 in open intents, 1500 in counter sales still running\)/);
    assert.deepEqual(dojoCalls, []);
    assert.equal(await db.prisma.paymentIntent.count({ where: { locationId: loc, orderId: 'ord-3' } }), 0);
  });

  it("a counter sale or a checkout link is refused while Dojo holds a live lock on the order (a card machine taking payment)", async () => {
    loc = await venue();
    const expiresAt = new Date(Date.now() + 60_000);
    await db.prisma.orderLock.create({ data: { locationId: loc, orderId: 'ord-1', lockId: 'lk-dojo', expiresAt } });
    const sale = await expectDomainError(start('lk-1', { tid: 'T-LK', orderId: 'ord-1', amount: 5000n }), 'locked');
    assert.equal(sale.details.lockExpiresAt, expiresAt.toISOString());
    const { intents, dojoCalls } = intentsWithoutDojo();
    await expectDomainError(intents.execute(loc, { orderId: 'ord-1', idempotencyKey: 'k-lk', tipsAllowed: false, captureMode: 'Auto' }), 'locked');
    assert.deepEqual(dojoCalls, []);
    assert.equal(await db.prisma.counterTransaction.count({ where: { locationId: loc, orderId: 'ord-1' } }), 0);
    // Expired, it no longer holds the order.
    await db.prisma.orderLock.update({ where: { locationId_orderId: { locationId: loc, orderId: 'ord-1' } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await start('lk-2', { tid: 'T-LK', orderId: 'ord-1', amount: 5000n })).created, true);
  });

  it('a card machine cannot lock an order for payment while a counter sale runs against it; it may once the sale ends', async () => {
    loc = await venue();
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
    const lockOrder = (lockId: string) =>
      dispatcher.handle(rpcJob(loc, 'CreateOrderLockV1', { orderId: 'ord-1', lockId, expiry: new Date(Date.now() + 60_000).toISOString() }));
    const sale = await start('cl-1', { tid: 'T-CL', orderId: 'ord-1', amount: 2000n });
    const refused = await lockOrder('lk-table');
    assert.ok(isFailure(refused), `the lock must be refused, got ${JSON.stringify(refused)}`);
    assert.equal(refused.error.errorType, 'Conflict');
    assert.match(refused.error.debugMessage, /counter terminal/);
    assert.equal(await db.prisma.orderLock.count({ where: { locationId: loc, orderId: 'ord-1' } }), 0, 'no lock written');
    // The sale ends (declined here): the card machine may lock the order.
    const [work] = await new TakeCounterWork(deps).takeWork(loc, owner('gw', 1));
    assert.equal(work?.op, 'send');
    await settle(sale.view.id, { kind: 'transaction', transaction: approved(2000, { transactionResult: 'DECLINED' }) });
    const locked = await lockOrder('lk-table-2');
    assert.ok(!isFailure(locked), JSON.stringify(locked));
  });

  it('a settle runs exactly once under duplicate jobs and records the payment once', async () => {
    loc = await venue();
    const s = await start('pay-1', { tid: 'T-PAY', orderId: 'ord-1', amount: 5000n });
    const take = new TakeCounterWork(deps);
    assert.equal((await take.takeWork(loc, owner('r1'))).length, 1);
    const outcome = { kind: 'transaction' as const, transaction: approved(5000, { amountCashback: 0 }) };
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => settle(s.view.id, outcome)),
      settle(s.view.id, { kind: 'recovered', transaction: approved(5000) }),
      settle(s.view.id, { kind: 'refused', code: -32009, message: 'busy' }),
    ]);
    assert.equal(results.filter((r) => r.kind === 'settled').length, 1, JSON.stringify(results.map((r) => r.kind)));
    const order = await ordersRepo(db.prisma).find(loc, 'ord-1');
    assert.equal(order!.paidAmount, 5000n);
    assert.equal(order!.tipsAmount, 150n);
    assert.equal(order!.payments.length, 1);
    assert.equal(order!.payments[0]!.paymentIntentId, s.view.id, 'the payment id is the counter transaction id');
    const view = await new GetCounterTransaction(deps).execute(loc, s.view.id);
    assert.equal(view.paymentId, s.view.id);
    assert.deepEqual(view.receiptLines?.CUSTOMER, [{ type: 'TEXT', value: 'APPROVED' }]);
    assert.equal(view.events.filter((e) => e.type === 'transaction' && e.data.state !== 'accepted' && e.data.state !== 'sent').length, 1, 'one final transaction event');
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc, kind: 'payment.recorded', entityId: 'ord-1' } });
    assert.equal(feed.length, 1, 'the venue feed has the payment once');
  });

  it('a refund of a counter sale comes off its payment and the order, once, refunds of one sale settling at once added up', async () => {
    loc = await venue();
    const take = new TakeCounterWork(deps);
    const refund = (key: string, tid: string, amount: bigint, refundOf: string) => start(key, { tid, kind: 'refund', amount, refundOf });
    const refundDone = (amount: number) => ({ kind: 'transaction' as const, transaction: approved(amount, { transactionType: 'REFUND', amountGratuity: 0, amountTotal: amount }) });
    const order = async () => (await ordersRepo(db.prisma).find(loc, 'ord-1'))!;

    // A sale of 5,000 + 150 tips recorded on ord-1; a declined one recorded nothing.
    const sale = await start('rf-sale', { tid: 'T-RF', orderId: 'ord-1', amount: 5000n });
    await take.takeWork(loc, owner('r1'));
    await settle(sale.view.id, { kind: 'transaction', transaction: approved(5000) });
    const declined = await start('rf-dec', { tid: 'T-RF', orderId: 'ord-2', amount: 1000n });
    await take.takeWork(loc, owner('r1'));
    await settle(declined.view.id, { kind: 'transaction', transaction: approved(1000, { transactionResult: 'DECLINED' }) });

    // What a refund of a sale may be.
    await expectDomainError(start('rf-bad-1', { tid: 'T-X', kind: 'sale', amount: 100n, refundOf: sale.view.id }), 'invalid');
    await expectDomainError(refund('rf-bad-2', 'T-X', 100n, 'not-a-uuid'), 'invalid');
    await expectDomainError(start('rf-bad-3', { tid: 'T-X', kind: 'refund', amount: 100n, orderId: 'ord-1' }), 'invalid');
    await expectDomainError(refund('rf-bad-4', 'T-X', 100n, '00000000-0000-4000-8000-000000000000'), 'not_found');
    await expectDomainError(refund('rf-bad-5', 'T-X', 100n, declined.view.id), 'conflict', 'not_refundable');
    await expectDomainError(start('rf-bad-6', { tid: 'T-X', kind: 'refund', amount: 100n, currency: 'EUR', refundOf: sale.view.id }), 'conflict', 'not_refundable');
    await expectDomainError(refund('rf-bad-7', 'T-X', 5151n, sale.view.id), 'conflict', 'not_refundable');
    await expectDomainError(start('rf-other', { tid: 'T-X', kind: 'refund', amount: 100n, refundOf: sale.view.id }, other), 'not_found', undefined);

    // Two refunds of 1,000 on two terminals, each settled twice and all at once: 2,000 comes off, paid first.
    const r1 = await refund('rf-1', 'T-R1', 1000n, sale.view.id);
    assert.equal(r1.view.orderId, 'ord-1', "the refund is on the sale's order");
    assert.equal(r1.view.refundOf, sale.view.id);
    const r2 = await refund('rf-2', 'T-R2', 1000n, sale.view.id);
    // 5,150 - 2,000 running: 3,151 is refused while both run.
    await expectDomainError(refund('rf-3', 'T-R3', 3151n, sale.view.id), 'conflict', 'not_refundable');
    assert.equal((await take.takeWork(loc, owner('r1'))).length, 2);
    const settled = await Promise.all([settle(r1.view.id, refundDone(1000)), settle(r2.view.id, refundDone(1000)), settle(r1.view.id, refundDone(1000)), settle(r2.view.id, refundDone(1000))]);
    assert.equal(settled.filter((r) => r.kind === 'settled').length, 2);
    for (const r of settled) if (r.kind === 'settled') assert.equal(r.view.paymentId, sale.view.id, 'the payment it changed');
    let o = await order();
    assert.deepEqual([o.paidAmount, o.tipsAmount, o.payable], [3000n, 150n, true], 'paid 5,000 less 2,000; payable again');
    assert.deepEqual([o.payments[0]!.refundedAmount, o.payments[0]!.state], [2000n, 'Recorded']);

    // The rest, tips included: the payment is Refunded and the order owes all of it again.
    const r3 = await refund('rf-3b', 'T-R3', 3150n, sale.view.id);
    await take.takeWork(loc, owner('r1'));
    await settle(r3.view.id, refundDone(3150));
    o = await order();
    assert.deepEqual([o.paidAmount, o.tipsAmount, o.payable], [0n, 0n, true]);
    assert.deepEqual([o.payments[0]!.refundedAmount, o.payments[0]!.state], [5150n, 'Refunded']);
    await expectDomainError(refund('rf-4', 'T-R4', 1n, sale.view.id), 'conflict', 'not_refundable');
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc, kind: 'payment.updated', entityId: sale.view.id }, orderBy: { id: 'asc' } });
    assert.deepEqual(feed.map((f) => (f.data as { refundedAmount: number }).refundedAmount), [1000, 2000, 5150], 'one payment.updated per refund applied');
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: loc, entityId: 'ord-1' } }), 0, "a Connect location's changes queue no POS event (its token is not a Dojo API key)");

    // A refund that names no sale changes no order.
    const loose = await start('rf-loose', { tid: 'T-R5', kind: 'refund', amount: 700n });
    await take.takeWork(loc, owner('r1'));
    const l = await settle(loose.view.id, refundDone(700));
    assert.equal(l.kind === 'settled' && l.view.paymentId, undefined);
    assert.equal((await order()).payments[0]!.refundedAmount, 5150n);
  });

  it('an unknown outcome holds its amount until the venue resolves it: charged records the payment once, not_charged releases it', async () => {
    loc = await venue();
    const take = new TakeCounterWork(deps);
    const resolve = (id: string, resolution: 'charged' | 'not_charged', amountGratuity?: bigint, at = loc) =>
      new ResolveCounterTransaction(deps).execute(at, id, { resolution, ...(amountGratuity !== undefined ? { amountGratuity } : {}) }, 'trace');
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
    const lockOrder = (orderId: string, lockId: string) =>
      dispatcher.handle(rpcJob(loc, 'CreateOrderLockV1', { orderId, lockId, expiry: new Date(Date.now() + 60_000).toISOString() }));
    const lost = async (key: string, orderId: string, amount: bigint) => {
      const s = await start(key, { tid: `T-${key}`, orderId, amount });
      await take.takeWork(loc, owner('r1'));
      const r = await settle(s.view.id, { kind: 'unknown', reason: 'terminal away' });
      assert.equal(r.kind === 'settled' && r.view.failure, 'outcome_unknown');
      return s.view.id;
    };

    // ord-1 (5000): a sale of 3,000 whose outcome is unknown may have charged the card, so it still holds 3,000.
    const a = await lost('uk-a', 'ord-1', 3000n);
    await expectDomainError(start('uk-more', { tid: 'T-more', orderId: 'ord-1', amount: 2001n }), 'conflict', 'order_not_payable');
    const { intents, dojoCalls } = intentsWithoutDojo();
    await expectDomainError(intents.execute(loc, { orderId: 'ord-1', idempotencyKey: 'uk-pi', amount: 2001n, tipsAllowed: false, captureMode: 'Auto' }), 'conflict');
    assert.deepEqual(dojoCalls, [], 'refused before Dojo is asked');
    const locked = await lockOrder('ord-1', 'lk-uk');
    assert.ok(isFailure(locked), 'a card machine cannot lock the order either');
    assert.match(locked.error.debugMessage, /not resolved/);
    const cancelled = await dispatcher.handle(rpcJob(loc, 'CancelOrderByIdV1', { orderId: 'ord-1' }));
    assert.ok(isFailure(cancelled), 'nor can Dojo cancel it');
    assert.match(cancelled.error.debugMessage, /counter terminal/);

    // Only such a transaction is resolved; another venue cannot resolve it; a tip only with a charged sale.
    await expectDomainError(resolve(a, 'charged', undefined, other), 'not_found');
    await expectDomainError(resolve(a, 'not_charged', 100n), 'invalid');
    const declined = await start('uk-dec', { tid: 'T-dec', orderId: 'ord-3', amount: 500n });
    await take.takeWork(loc, owner('r1'));
    await settle(declined.view.id, { kind: 'transaction', transaction: approved(500, { transactionResult: 'DECLINED' }) });
    await expectDomainError(resolve(declined.view.id, 'charged'), 'conflict', 'not_resolvable');

    // Charged, resolved twice at once: the payment (with the receipt's tip) is recorded once.
    const both = await Promise.all([resolve(a, 'charged', 120n), resolve(a, 'charged', 120n)]);
    for (const v of both) assert.deepEqual([v.resolution, v.paymentId, v.state, v.failure], ['charged', a, 'failed', 'outcome_unknown']);
    let o = (await ordersRepo(db.prisma).find(loc, 'ord-1'))!;
    assert.deepEqual([o.paidAmount, o.tipsAmount, o.payments.length], [3000n, 120n, 1]);
    await expectDomainError(resolve(a, 'not_charged'), 'conflict', 'already_resolved');
    // The hold became the payment: 2,000 is left, and may be charged.
    await start('uk-rest', { tid: 'T-rest', orderId: 'ord-1', amount: 2000n });
    // A resolved charged sale may be refunded like a SUCCESSFUL one; a refund whose outcome is lost holds its amount on the sale.
    const rf = await start('uk-rf', { tid: 'T-rf', kind: 'refund', amount: 3000n, refundOf: a });
    await take.takeWork(loc, owner('r1'));
    await settle(rf.view.id, { kind: 'unknown', reason: 'terminal away' });
    await expectDomainError(start('uk-rf2', { tid: 'T-rf2', kind: 'refund', amount: 121n, refundOf: a }), 'conflict', 'not_refundable');
    const rv = await resolve(rf.view.id, 'charged');
    assert.equal(rv.paymentId, a);
    o = (await ordersRepo(db.prisma).find(loc, 'ord-1'))!;
    assert.deepEqual([o.payments[0]!.refundedAmount, o.paidAmount], [3000n, 0n]);
    await start('uk-rf3', { tid: 'T-rf3', kind: 'refund', amount: 120n, refundOf: a });
    await expectDomainError(start('uk-rf4', { tid: 'T-rf4', kind: 'refund', amount: 1n, refundOf: a }), 'conflict', 'not_refundable');

    // ord-2 (3000): not charged releases the hold, records nothing, and the event stream says so.
    const b = await lost('uk-b', 'ord-2', 3000n);
    assert.ok(isFailure(await lockOrder('ord-2', 'lk-uk-2')));
    const nb = await resolve(b, 'not_charged');
    assert.deepEqual([nb.resolution, nb.paymentId], ['not_charged', undefined]);
    assert.match(nb.message!, /resolved by the venue: not charged/);
    assert.equal((await ordersRepo(db.prisma).find(loc, 'ord-2'))!.payments.length, 0);
    assert.ok(!isFailure(await lockOrder('ord-2', 'lk-uk-3')), 'the card machine may lock it now');
    const events = (await new GetCounterTransaction(deps).execute(loc, b)).events;
    assert.equal(events.at(-1)?.data.resolution, 'not_charged', 'the resolution is a transaction event');

    // ord-3 (2000): the POS stops a recovery it does not want to wait for; the sale then holds until resolved, and a
    // recovered outcome arriving after that changes nothing.
    const c = await start('uk-c', { tid: 'T-uk-c', orderId: 'ord-3', amount: 2000n });
    await take.takeWork(loc, owner('old', 1));
    const recover = (await take.takeWork(loc, owner('new', 2))).find((w) => w.transactionId === c.view.id);
    assert.equal(recover?.op, 'recover');
    const stopped = await new CancelCounterTransaction(deps).execute(loc, c.view.id);
    assert.deepEqual([stopped.state, stopped.failure], ['failed', 'outcome_unknown']);
    assert.match(stopped.message!, /stopped the recovery/);
    await expectDomainError(start('uk-c2', { tid: 'T-uk-c2', orderId: 'ord-3', amount: 1n }), 'conflict', 'order_not_payable');
    assert.equal((await settle(c.view.id, { kind: 'recovered', transaction: approved(2000) })).kind, 'already');
    assert.equal((await resolve(c.view.id, 'charged')).paymentId, c.view.id);
    assert.equal((await ordersRepo(db.prisma).find(loc, 'ord-3'))!.paidAmount, 2000n);
  });

  it('declined and refused outcomes record nothing, an unreadable one holds its amount until resolved; a sale the order can no longer take is finished with a message', async () => {
    loc = await venue();
    const take = new TakeCounterWork(deps);
    const paid = async (id: string) => (await ordersRepo(db.prisma).find(loc, id))!.paidAmount;
    const d = await start('dec-1', { tid: 'T-DEC', orderId: 'ord-3', amount: 2000n });
    await take.takeWork(loc, owner('r1'));
    const declined = await settle(d.view.id, { kind: 'transaction', transaction: approved(2000, { transactionResult: 'DECLINED' }) });
    assert.equal(declined.kind === 'settled' && declined.view.result, 'DECLINED');
    assert.equal(declined.kind === 'settled' && declined.view.paymentId, undefined);
    assert.equal(await paid('ord-3'), 0n);

    const r = await start('ref-1', { tid: 'T-DEC', orderId: 'ord-3', amount: 2000n });
    await take.takeWork(loc, owner('r1'));
    const refused = await settle(r.view.id, { kind: 'refused', code: -32009, message: 'terminal busy' });
    assert.equal(refused.kind === 'settled' && refused.view.failure, 'refused');
    const u = await start('unr-1', { tid: 'T-DEC', orderId: 'ord-3', amount: 2000n });
    await take.takeWork(loc, owner('r1'));
    const unreadable = await settle(u.view.id, { kind: 'unreadable', problem: 'sale.transactionResult is missing', raw: { transactionType: 'SALE' } });
    assert.equal(unreadable.kind === 'settled' && unreadable.view.failure, 'outcome_unknown', 'the card may have been charged');
    assert.equal(await paid('ord-3'), 0n);
    // It holds its 2000 on the order, so nothing charges it again, until the venue reads its terminal's receipts.
    await expectDomainError(start('unr-2', { tid: 'T-UNR', orderId: 'ord-3', amount: 1n }), 'conflict', 'order_not_payable');
    const released = await new ResolveCounterTransaction(deps).execute(loc, u.view.id, { resolution: 'not_charged' }, 'trace');
    assert.deepEqual([released.state, released.failure, released.resolution], ['failed', 'outcome_unknown', 'not_charged']);

    // Two sales of 2000 are accepted one after the other; the order is paid by something else meanwhile.
    const s = await start('late-1', { tid: 'T-LATE', orderId: 'ord-3', amount: 2000n });
    await take.takeWork(loc, owner('r1'));
    // Paid meanwhile by another channel (as a card machine's payment leaves the order).
    await db.prisma.order.update({ where: { locationId_id: { locationId: loc, id: 'ord-3' } }, data: { paidAmount: 2000n, payable: false } });
    const late = await settle(s.view.id, { kind: 'transaction', transaction: approved(2000) });
    assert.equal(late.kind === 'settled' && late.view.state, 'finished');
    assert.equal(late.kind === 'settled' && late.view.result, 'SUCCESSFUL');
    assert.equal(late.kind === 'settled' && late.view.paymentId, undefined);
    assert.match(late.kind === 'settled' ? (late.view.message ?? '') : '', /not recorded on order ord-3/);
    assert.equal(await paid('ord-3'), 2000n, 'not paid twice');
  });

  it('cancel: accepted fails at once, sent asks the terminal once (again if it still runs 10 s later), finished is 409', async () => {
    loc = await venue();
    const take = new TakeCounterWork(deps);
    const c = await start('can-1', { tid: 'T-CAN' });
    await take.takeWork(loc, owner('r1'));
    const asked = await new CancelCounterTransaction(deps).execute(loc, c.view.id);
    assert.equal(asked.state, 'cancel_requested');
    assert.equal((await new CancelCounterTransaction(deps).execute(loc, c.view.id)).state, 'cancel_requested');
    const work = await take.takeWork(loc, owner('r1', 1, [c.view.id]));
    assert.deepEqual(work, [{ op: 'cancel', transactionId: c.view.id, tid: 'T-CAN' }]);
    assert.deepEqual(await take.takeWork(loc, owner('r1', 1, [c.view.id])), [], 'the cancel is sent once');
    // Still running 10 s later (its write was lost with a closing socket, say): the cancel is sent again.
    await db.prisma.counterTransaction.update({ where: { id: c.view.id }, data: { cancelSentAt: new Date(Date.now() - 11_000) } });
    assert.deepEqual(await take.takeWork(loc, owner('r1', 1, [c.view.id])), [{ op: 'cancel', transactionId: c.view.id, tid: 'T-CAN' }], 'sent again');
    assert.deepEqual(await take.takeWork(loc, owner('r1', 1, [c.view.id])), [], 'and not at once a third time');
    await settle(c.view.id, { kind: 'transaction', transaction: approved(1000, { transactionResult: 'CANCELLED' }) });
    await expectDomainError(new CancelCounterTransaction(deps).execute(loc, c.view.id), 'conflict', 'not_cancellable');
  });

  it('an accepted command nobody claims in time fails not_sent', async () => {
    loc = await venue();
    const quick = { ...deps, acceptTtlMs: 1 };
    const s = await new StartCounterTransaction(quick).execute(loc, { idempotencyKey: 'exp-1', kind: 'refund', tid: 'T-EXP', amount: 300n });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await new TakeCounterWork(deps).takeWork(loc, owner('r1')), []);
    const v = await new GetCounterTransaction(deps).execute(loc, s.view.id);
    assert.equal(v.failure, 'not_sent');
  });

  it('venue isolation: another location sees none of these transactions, and cannot settle or cancel them', async () => {
    loc = await venue();
    const s = await start('iso-1', { tid: 'T-ISO' });
    await expectDomainError(new GetCounterTransaction(deps).execute(other, s.view.id), 'not_found');
    await expectDomainError(new CancelCounterTransaction(deps).execute(other, s.view.id), 'not_found');
    assert.equal((await settle(s.view.id, { kind: 'transaction', transaction: approved(1000) }, other)).kind, 'missing');
    assert.deepEqual(await new TakeCounterWork(deps).takeWork(other, owner('r1')), [], "the other venue's gateway gets none of this venue's work");
    await expectDomainError(new GetCounterTransaction(deps).execute(loc, 'not-a-uuid'), 'not_found');
    const theirs = await new ReadCounterEvents(deps).execute(other, undefined, 1000);
    assert.ok(theirs.every((e) => e.locationId === other));
    // The same idempotency key at another venue is another transaction.
    const mine = await start('shared-key', { tid: 'T-ISO' });
    const their = await start('shared-key', { tid: 'T-ISO' }, other);
    assert.notEqual(mine.view.id, their.view.id);
  });

  it("notifications attach to the terminal's running transaction and stream in order", async () => {
    loc = await venue();
    const s = await start('note-1', { tid: 'T-NOTE' });
    await new TakeCounterWork(deps).takeWork(loc, owner('r1'));
    const received: CounterEvent[] = [];
    await sub.subscribe(CounterChannels.events(prefix, loc));
    sub.on('message', (_c, m) => received.push(JSON.parse(m) as CounterEvent));
    const note = new RecordTerminalNotification(deps.signals);
    const ctx = { db: db.prisma, locationId: loc, rpcId: 'n', traceId: 't', log: logger, now: new Date() };
    for (const v of ['TRANSACTION_STARTED', 'PRESENT_CARD', 'PIN_ENTRY']) await note.execute(ctx, { tid: 'T-NOTE', notificationValue: v });
    await waitFor(() => received.filter((e) => e.type === 'notification').length === 3, 'published notifications');
    const v = await new GetCounterTransaction(deps).execute(loc, s.view.id);
    assert.equal(v.lastNotification, 'PIN_ENTRY');
    assert.deepEqual(v.events.filter((e) => e.type === 'notification').map((e) => e.data.notificationValue), ['TRANSACTION_STARTED', 'PRESENT_CARD', 'PIN_ENTRY']);
    // Connect's last notifications come just before its reply, which may be settled first: they still belong to it.
    await settle(s.view.id, { kind: 'transaction', transaction: approved(1000) });
    await note.execute(ctx, { tid: 'T-NOTE', notificationValue: 'TRANSACTION_FINISHED' });
    const late = await new GetCounterTransaction(deps).execute(loc, s.view.id);
    assert.equal(late.events.at(-1)?.data.notificationValue, 'TRANSACTION_FINISHED');
    assert.equal(late.events.at(-1)?.transactionId, s.view.id);
    // The stream shows an event once no older transaction of the cluster is still open (other test files' included):
    // read until it shows the last one, as a POS reading on would.
    const lastId = late.events.at(-1)!.id;
    const all = await waitFor(async () => {
      const read = await new ReadCounterEvents(deps).execute(loc, undefined, 1000);
      return read.at(-1)?.id === lastId ? read : undefined;
    }, 'the stream shows every event');
    const ids = all.map((e) => e.id);
    const after = await new ReadCounterEvents(deps).execute(loc, ids[ids.length - 3], 1000);
    assert.deepEqual(after.map((e) => e.id), ids.slice(-2), 'replay after an id returns what followed it');
    // Another terminal's notification with nothing running is stored without a transaction.
    await note.execute(ctx, { tid: 'T-IDLE', notificationValue: 'PLEASE_WAIT' });
    const idle = (await new ReadCounterEvents(deps).execute(loc, ids.at(-1), 10)).find((e) => e.tid === 'T-IDLE');
    assert.equal(idle?.transactionId, undefined);
    await sub.unsubscribe();
    sub.removeAllListeners('message');
  });

  it('signature: the default at once when nobody listens; the POS answers when it listens; first writer wins', async () => {
    loc = await venue();
    const verify = new VerifyCardholderSignature(deps.signals);
    const ctx = (at: string) => ({ db: db.prisma, locationId: at, rpcId: 's', traceId: 't', log: logger, now: new Date() });
    const take = new TakeCounterWork(deps);

    // Nobody listens: the location's default (decline) at once.
    const a = await start('sig-1', { tid: 'T-SIG' });
    await take.takeWork(loc, owner('r1'));
    const t0 = Date.now();
    assert.deepEqual(await verify.execute(ctx(loc), { tid: 'T-SIG' }), { accepted: false });
    assert.ok(Date.now() - t0 < 1_000, 'answered at once');
    const ev = (await new GetCounterTransaction(deps).execute(loc, a.view.id)).events;
    assert.deepEqual(ev.find((e) => e.type === 'signature.answered')?.data, { transactionId: a.view.id, tid: 'T-SIG', accepted: false, by: 'default' });
    await expectDomainError(new AnswerCardholderSignature(deps).execute(loc, a.view.id, true), 'conflict', 'signature_already_answered');
    await settle(a.view.id, { kind: 'transaction', transaction: approved(1000, { transactionResult: 'DECLINED' }) });

    // The other venue's default is accept.
    await start('sig-o', { tid: 'T-SIG' }, other);
    await take.takeWork(other, owner('r1'));
    assert.deepEqual(await verify.execute(ctx(other), { tid: 'T-SIG' }), { accepted: true });

    // A POS listens and answers: its answer is applied, the default is not.
    const b = await start('sig-2', { tid: 'T-SIG' });
    await take.takeWork(loc, owner('r1'));
    await expectDomainError(new AnswerCardholderSignature(deps).execute(loc, b.view.id, true), 'conflict', 'no_signature_request');
    await sub.subscribe(CounterChannels.events(prefix, loc));
    sub.on('message', (_c, m) => {
      const e = JSON.parse(m) as CounterEvent;
      if (e.type === 'signature.requested' && e.transactionId === b.view.id) void new AnswerCardholderSignature(deps).execute(loc, b.view.id, true);
    });
    assert.deepEqual(await verify.execute(ctx(loc), { tid: 'T-SIG', receiptLines: { MERCHANT: [{ type: 'TEXT', value: 'SIGN HERE' }] } }), { accepted: true });
    const evB = (await new GetCounterTransaction(deps).execute(loc, b.view.id)).events;
    assert.equal(evB.find((e) => e.type === 'signature.answered')?.data.by, 'pos');
    assert.deepEqual(evB.find((e) => e.type === 'signature.requested')?.data.receiptLines, { MERCHANT: [{ type: 'TEXT', value: 'SIGN HERE' }] });
    // Asked again (Connect retried): the same answer, nothing asked of the POS.
    assert.deepEqual(await verify.execute(ctx(loc), { tid: 'T-SIG' }), { accepted: true });
    sub.removeAllListeners('message');

    // A listener that never answers: the default after signatureWaitMs (2 s here).
    await settle(b.view.id, { kind: 'transaction', transaction: approved(1000) });
    const c = await start('sig-3', { tid: 'T-SIG' });
    await take.takeWork(loc, owner('r1'));
    const t1 = Date.now();
    assert.deepEqual(await verify.execute(ctx(loc), { tid: 'T-SIG' }), { accepted: false });
    assert.ok(Date.now() - t1 >= 1_900, 'waited for the POS');
    const evC = (await new GetCounterTransaction(deps).execute(loc, c.view.id)).events;
    assert.equal(evC.find((e) => e.type === 'signature.answered')?.data.by, 'default');
    await sub.unsubscribe();
  });

  it('signature: a stopping worker ends the wait at once with the default, so no other worker asks the POS again', async () => {
    loc = await venue({ signatureWaitMs: 30_000 });
    // The worker's own signals (RpcWorkerService stops them when it closes).
    const signals = new RedisCounterSignals(redis, prefix, logger);
    const a = await start('sig-stop', { tid: 'T-STOP' });
    await new TakeCounterWork(deps).takeWork(loc, owner('r1'));
    await sub.subscribe(CounterChannels.events(prefix, loc)); // a POS listens and does not answer
    const t0 = Date.now();
    const ctx = { db: db.prisma, locationId: loc, rpcId: 's', traceId: 't', log: logger, now: new Date(), deadline: Date.now() + 8_000 };
    const answer = new VerifyCardholderSignature(signals).execute(ctx, { tid: 'T-STOP' });
    await sleep(500);
    signals.stop();
    assert.deepEqual(await answer, { accepted: false });
    assert.ok(Date.now() - t0 < 2_000, `answered when the worker stopped, not at the end of the wait (${Date.now() - t0} ms)`);
    const ev = (await new GetCounterTransaction(deps).execute(loc, a.view.id)).events;
    assert.deepEqual(ev.find((e) => e.type === 'signature.answered')?.data, { transactionId: a.view.id, tid: 'T-STOP', accepted: false, by: 'default' });
    await expectDomainError(new AnswerCardholderSignature(deps).execute(loc, a.view.id, true), 'conflict', 'signature_already_answered');
    await sub.unsubscribe();
  });

  it('the settle consumer settles through the real queue once, whatever is enqueued twice', async () => {
    loc = await venue();
    await fx.order(loc, { id: 'ord-q', total: 1200 });
    const s = await start('q-1', { tid: 'T-Q', orderId: 'ord-q', amount: 1200n });
    await new TakeCounterWork(deps).takeWork(loc, owner('r1'));
    const worker = new CounterSettleWorker({ redisUrl: testRedisUrl(), prefix, concurrency: 4 }, new SettleCounterTransaction(deps), logger);
    const jobs = new JobEnqueuer({ redisUrl: testRedisUrl(), prefix });
    try {
      worker.start();
      await worker.waitUntilReady();
      const job: CounterSettleJob = { locationId: loc, transactionId: s.view.id, outcome: { kind: 'transaction', transaction: approved(1200) }, replicaId: 'r1', traceId: 'q' };
      await Promise.all([enqueueCounterSettle(jobs, job), enqueueCounterSettle(jobs, job), enqueueCounterSettle(jobs, { ...job, outcome: { kind: 'recovered', transaction: approved(1200) } })]);
      await waitFor(async () => (await new GetCounterTransaction(deps).execute(loc, s.view.id)).state === 'finished', 'settled by the worker');
      await waitFor(async () => ((await jobs.queue('counter-settle').getJobCounts('completed')).completed ?? 0) >= 2, 'both jobs done');
      const order = await ordersRepo(db.prisma).find(loc, 'ord-q');
      assert.equal(order!.paidAmount, 1200n);
      assert.equal(order!.payments.length, 1);
    } finally {
      await worker.close();
      await jobs.close();
    }
  });
});
