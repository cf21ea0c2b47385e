/**
 * What an order's holds do to the payments taken on it, on real Postgres and Redis: the venue's own hold
 * (`payable: false`) and a counter sale it started; a counter sale still running and Dojo's card machines; the
 * venue's replace of an order with money in flight; Dojo's cancel while a checkout link is out; a Tables API
 * payment after its lock's lifetime; a Connect PAT table payment over orders a counter terminal is paying.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createLogger, createRedis } from '@app/common';
import type { ConnectPac, CounterSettleJob, JsonRpcResponse, TablesAnsweredMethod } from '@app/contracts';
import { ConnectPat, isFailure, parseTablesParams } from '@app/contracts';
import { tableSessionId } from '@app/domain';
import { CONNECT_PAT, dojoTablesDialect } from '@app/domain/rpc';
import type { CounterDeps } from '@app/domain/counter';
import { ResolveCounterTransaction, SettleCounterTransaction, StartCounterTransaction, TakeCounterWork } from '@app/domain/counter';
import { DomainError } from '@app/domain/admin';
import { UpsertOrder, VenueStore } from '@app/domain/venue';
import { ordersRepo } from '@app/domain/repositories/orders.repository';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { RedisCounterSignals } from '@app/queue';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, testRedisUrl, uniquePrefix } from '@app/testing';
import { GBP, rpcJob } from '../worker/fixtures';

const logger = createLogger('payment-holds-test', process.env.TEST_LOG_LEVEL ?? 'silent');

function approved(amountBase: number, over: Partial<ConnectPac.PacTransaction> = {}): ConnectPac.PacTransaction {
  return {
    transactionType: 'SALE',
    transactionResult: 'SUCCESSFUL',
    currency: 'GBP',
    amountBase,
    amountGratuity: 0,
    amountTotal: amountBase,
    transactionTime: new Date().toISOString(),
    ...over,
  };
}

/** A venue's order as its POS PUTs it: one line, the total, and its hold when `payable` is false. */
const venueOrder = (id: string, total: number, payable = true) => ({
  id,
  status: 'Accepted',
  details: { orderType: 'Collection', collection: { asap: true } },
  items: [{ name: 'Tea', plu: 'T1', quantity: 1, amountPerItem: GBP(total) }],
  totalAmount: GBP(total),
  payable,
});

async function refusedWith(p: Promise<unknown>, kind: DomainError['kind'], code: string): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.equal(err.details.error, code, err.message);
    return err;
  }
  assert.fail(`expected ${kind} ${code}`);
}

describe('payments and the holds on an order', () => {
  let db: TestDatabase;
  let redis: Redis;
  let fx: Fixtures;
  let deps: CounterDeps;
  let dispatcher: RpcDispatcher;

  before(async () => {
    db = await createTestDatabase('paymentholds');
    redis = createRedis(testRedisUrl());
    fx = fixtures(db.prisma);
    deps = { prisma: db.prisma, signals: new RedisCounterSignals(redis, uniquePrefix('holds'), logger), log: logger };
    dispatcher = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
  });
  after(async () => {
    redis?.disconnect();
    await db?.drop();
  });

  /** A venue with a pay-at-counter link (its card machines may still send EPOS Data payments). */
  const pacVenue = async () =>
    (
      await fx.location({
        name: 'Holds',
        protocol: 'connect-pac',
        protocolSettings: { hostAddress: 'venue1', environment: 'test', installerId: 'inst-1', signatureDefault: 'decline', signatureWaitMs: 2_000 },
        registrationState: 'not_required',
      })
    ).id;
  const put = (loc: string, id: string, total: number, payable = true, condition?: Parameters<UpsertOrder['execute']>[3]) =>
    new UpsertOrder({ venue: new VenueStore(db.prisma) }).execute(loc, id, venueOrder(id, total, payable), condition);
  const order = async (loc: string, id: string) => (await ordersRepo(db.prisma).find(loc, id))!;
  const start = (loc: string, key: string, orderId: string, amount: bigint) =>
    new StartCounterTransaction(deps).execute(loc, { idempotencyKey: key, kind: 'sale', tid: `T-${key}`, amount, orderId });
  /** Starts a sale and has the gateway take it to the terminal (state sent). */
  const sent = async (loc: string, key: string, orderId: string, amount: bigint) => {
    const s = await start(loc, key, orderId, amount);
    await new TakeCounterWork(deps).takeWork(loc, { replicaId: 'r1', fence: 1, inFlight: [] });
    return s.view.id;
  };
  const settle = (loc: string, transactionId: string, outcome: CounterSettleJob['outcome']) =>
    new SettleCounterTransaction(deps).execute({ locationId: loc, transactionId, outcome, replicaId: 'r1', traceId: 'trace' });
  const eposPayment = (loc: string, orderId: string, paymentIntentId: string, paid: number): Promise<JsonRpcResponse> =>
    dispatcher.handle(rpcJob(loc, 'RecordOrderPaymentByIdV1', { orderId, paymentIntentId, paidAmount: GBP(paid) }));

  it('a counter sale on an order the POS holds (payable: false) is recorded once the card is charged; the order stays held', async () => {
    const loc = await pacVenue();
    // The hold comes while the sale runs on the terminal.
    await put(loc, 'h-1', 1250);
    const sale = await sent(loc, 'h1', 'h-1', 1250n);
    await put(loc, 'h-1', 1250, false);
    const done = await settle(loc, sale, { kind: 'transaction', transaction: approved(1250) });
    assert.equal(done.kind, 'settled');
    assert.equal(done.kind === 'settled' && done.view.paymentId, sale, `recorded: ${done.kind === 'settled' ? done.view.message : ''}`);
    let o = await order(loc, 'h-1');
    assert.deepEqual([o.paidAmount, o.payable, o.heldByVenue, o.payments.length], [1250n, false, true, 1]);
    const feed = await db.prisma.venueFeedEntry.findFirstOrThrow({ where: { locationId: loc, kind: 'payment.recorded', entityId: 'h-1' } });
    assert.equal((feed.data as { payable: boolean }).payable, false, 'the feed shows the order as stored');

    // The hold comes before the sale starts; the outcome is lost and the venue resolves it as charged.
    await put(loc, 'h-2', 1000, false);
    const lost = await sent(loc, 'h2', 'h-2', 600n);
    const unknown = await settle(loc, lost, { kind: 'unknown', reason: 'terminal away' });
    assert.equal(unknown.kind === 'settled' && unknown.view.failure, 'outcome_unknown');
    const resolved = await new ResolveCounterTransaction(deps).execute(loc, lost, { resolution: 'charged' }, 'trace');
    assert.equal(resolved.paymentId, lost, `recorded: ${resolved.message}`);
    o = await order(loc, 'h-2');
    assert.deepEqual([o.paidAmount, o.payable, o.heldByVenue], [600n, false, true], 'still held with 400 outstanding');

    // A card machine is still refused while the hold stands; lifting it makes the order payable for the rest.
    const refused = await eposPayment(loc, 'h-2', 'pi_h2', 400);
    assert.ok(isFailure(refused) && refused.error.errorType === 'Conflict', JSON.stringify(refused));
    assert.match(refused.error.debugMessage, /not payable/);
    await put(loc, 'h-2', 1000);
    assert.ok(!isFailure(await eposPayment(loc, 'h-2', 'pi_h2', 400)));
    o = await order(loc, 'h-2');
    assert.deepEqual([o.paidAmount, o.payable], [1000n, false]);
  });

  it("a card machine's payment leaves what a counter sale still running may take, so the bill is never charged twice", async () => {
    const loc = await pacVenue();
    // The POS charges the whole 12.50 at the counter; Dojo's card machine pays 12.50 on the same order meanwhile.
    await put(loc, 'c-1', 1250);
    const sale = await sent(loc, 'c1', 'c-1', 1250n);
    const card = await eposPayment(loc, 'c-1', 'pi_c1', 1250);
    assert.ok(isFailure(card) && card.error.errorType === 'Conflict', `refused, for Dojo to reverse: ${JSON.stringify(card)}`);
    assert.match(card.error.debugMessage, /1250 is being paid at a counter terminal/);
    const done = await settle(loc, sale, { kind: 'transaction', transaction: approved(1250) });
    assert.equal(done.kind === 'settled' && done.view.paymentId, sale, 'the counter sale is recorded');
    let o = await order(loc, 'c-1');
    assert.deepEqual([o.paidAmount, o.payments.map((p) => p.paymentIntentId)], [1250n, [sale]], 'paid once');

    // A counter sale of 5.00 of 12.50: a card machine may pay the 7.50 left, not more; an unknown outcome still holds.
    await put(loc, 'c-2', 1250);
    const part = await sent(loc, 'c2', 'c-2', 500n);
    assert.ok(isFailure(await eposPayment(loc, 'c-2', 'pi_c2a', 751)));
    assert.ok(!isFailure(await eposPayment(loc, 'c-2', 'pi_c2b', 750)));
    await settle(loc, part, { kind: 'unknown', reason: 'terminal away' });
    assert.ok(isFailure(await eposPayment(loc, 'c-2', 'pi_c2c', 500)), 'held until the venue resolves it');
    await new ResolveCounterTransaction(deps).execute(loc, part, { resolution: 'not_charged' }, 'trace');
    assert.ok(!isFailure(await eposPayment(loc, 'c-2', 'pi_c2c', 500)), 'released: the card machine takes the rest');
    o = await order(loc, 'c-2');
    assert.deepEqual([o.paidAmount, o.payable], [1250n, false]);
  });

  it("a venue's replace never lowers the total below what is paid plus what open intents and running counter sales may take", async () => {
    const loc = await pacVenue();
    // 12.00 of 20.00 paid: 11.99 would leave the order overpaid.
    await put(loc, 'p-1', 2000);
    assert.ok(!isFailure(await eposPayment(loc, 'p-1', 'pi_p1', 1200)));
    const before = (await order(loc, 'p-1')).version;
    const over = await refusedWith(put(loc, 'p-1', 1199), 'conflict', 'order_total_below_paid');
    assert.deepEqual([over.details.paidAmount, over.details.heldAmount, over.details.leastTotalAmount], [1200, 0, 1200]);
    assert.match(over.message, /has 1200 paid: its totalAmount cannot go below 1200 \(asked 1199\); refund first/);
    let o = await order(loc, 'p-1');
    assert.deepEqual([o.totalAmount, o.version], [2000n, before], 'nothing written');
    assert.equal((await put(loc, 'p-1', 1200)).version, before + 1, 'down to what is paid');
    o = await order(loc, 'p-1');
    assert.deepEqual([o.totalAmount, o.payable], [1200n, false]);
    assert.equal((await put(loc, 'p-1', 1200, true, { version: before + 1 })).version, before + 2, 'kept: never refused');

    // 3.00 in a counter sale running and a 5.00 checkout link out, nothing paid yet: 8.00 is the least total.
    await put(loc, 'p-2', 2000);
    await sent(loc, 'p2', 'p-2', 300n);
    await db.prisma.paymentIntent.create({
      data: { locationId: loc, id: randomUUID(), paymentIntentId: 'pi_p2', orderId: 'p-2', idempotencyKey: 'k-p2', requestHash: 'h', amount: 500n, currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status: 'Created' },
    });
    const held = await refusedWith(put(loc, 'p-2', 799), 'conflict', 'order_total_below_paid');
    assert.deepEqual([held.details.paidAmount, held.details.heldAmount, held.details.leastTotalAmount], [0, 800, 800]);
    assert.match(held.message, /500 in open payment intents and 300 in counter sales still running/);
    assert.equal((await put(loc, 'p-2', 800)).created, false);
    // The link canceled: only the counter sale holds.
    await db.prisma.paymentIntent.update({ where: { locationId_paymentIntentId: { locationId: loc, paymentIntentId: 'pi_p2' } }, data: { status: 'Canceled' } });
    await refusedWith(put(loc, 'p-2', 299), 'conflict', 'order_total_below_paid');
    assert.equal((await put(loc, 'p-2', 300)).created, false);
    assert.equal((await order(loc, 'p-2')).totalAmount, 300n);
  });

  it("a venue's replace does not close an order while an open intent or a running counter sale may take money for it", async () => {
    const loc = await pacVenue();
    const close = (id: string, status: 'Finalized' | 'Canceled') =>
      new UpsertOrder({ venue: new VenueStore(db.prisma) }).execute(loc, id, { ...venueOrder(id, 2000), status });
    // A 5.00 checkout link out.
    await put(loc, 'f-1', 2000);
    await db.prisma.paymentIntent.create({
      data: { locationId: loc, id: randomUUID(), paymentIntentId: 'pi_f1', orderId: 'f-1', idempotencyKey: 'k-f1', requestHash: 'h', amount: 500n, currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status: 'Created' },
    });
    const before = (await order(loc, 'f-1')).version;
    const refused = await refusedWith(close('f-1', 'Finalized'), 'conflict', 'order_payment_in_flight');
    assert.deepEqual([refused.details.openIntentAmount, refused.details.counterSaleAmount], [500, 0]);
    assert.match(refused.message, /has 500 in open payment intents: it cannot be Finalized/);
    let o = await order(loc, 'f-1');
    assert.deepEqual([o.status, o.version], ['Accepted', before], 'nothing written');
    assert.equal((await put(loc, 'f-1', 2100)).created, false, 'other edits go on');
    // The link canceled: the order may close.
    await db.prisma.paymentIntent.update({ where: { locationId_paymentIntentId: { locationId: loc, paymentIntentId: 'pi_f1' } }, data: { status: 'Canceled' } });
    await close('f-1', 'Finalized');
    o = await order(loc, 'f-1');
    assert.equal(o.status, 'Finalized');

    // A 3.00 counter sale running.
    await put(loc, 'f-2', 2000);
    await sent(loc, 'f2', 'f-2', 300n);
    const counter = await refusedWith(close('f-2', 'Canceled'), 'conflict', 'order_payment_in_flight');
    assert.deepEqual([counter.details.openIntentAmount, counter.details.counterSaleAmount], [0, 300]);
    assert.equal((await order(loc, 'f-2')).status, 'Accepted');
  });

  it("Dojo's cancel of an order with a checkout link out is refused until the intent ends, or its claim is stale", async () => {
    const loc = await pacVenue();
    const intent = (orderId: string, status: string) => db.prisma.paymentIntent.upsert({
      where: { locationId_paymentIntentId: { locationId: loc, paymentIntentId: `pi_${orderId}` } },
      create: { locationId: loc, id: randomUUID(), paymentIntentId: `pi_${orderId}`, orderId, idempotencyKey: `k-${orderId}`, requestHash: 'h', amount: 2000n, currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status },
      update: { status },
    });
    const cancel = (orderId: string) => dispatcher.handle(rpcJob(loc, 'CancelOrderByIdV1', { orderId }));
    for (const id of ['x-1', 'x-2']) await put(loc, id, 2000);
    for (const status of ['Creating', 'Created', 'Authorized']) {
      await intent('x-1', status);
      const refused = await cancel('x-1');
      assert.ok(isFailure(refused) && refused.error.errorType === 'Conflict', `${status}: ${JSON.stringify(refused)}`);
      assert.match(refused.error.debugMessage, /checkout link out \(2000 in open payment intents/);
      assert.equal((await order(loc, 'x-1')).status, 'Accepted', 'not cancelled');
    }
    await intent('x-1', 'Canceled');
    const cancelled = await cancel('x-1');
    assert.ok(!isFailure(cancelled), JSON.stringify(cancelled));
    assert.equal((await order(loc, 'x-1')).status, 'Canceled');

    // A claim its process left Creating past DOJO_CALL_STALE_MS (its link never handed out) holds nothing.
    await intent('x-2', 'Creating');
    await db.prisma.paymentIntent.update({ where: { locationId_paymentIntentId: { locationId: loc, paymentIntentId: 'pi_x-2' } }, data: { createdAt: new Date(Date.now() - 181_000) } });
    const pastStale = await cancel('x-2');
    assert.ok(!isFailure(pastStale), JSON.stringify(pastStale));
    assert.equal((await order(loc, 'x-2')).status, 'Canceled');
  });

  it('a Tables API payment arriving after its lock expired is taken under it while no one has locked the order since', async () => {
    const loc = (await fx.location({ protocol: 'dojo-tables', registrationState: 'not_required' })).id;
    await fx.table(loc, { id: 'T1', name: 'Table 1', maxCovers: 4 });
    for (const id of ['s-1', 's-2', 's-3']) await fx.order(loc, { id, total: 2000, tableId: 'T1' });
    const tables = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: () => Promise.reject(new Error('no events')) }, dialect: dojoTablesDialect() });
    const result = async (method: TablesAnsweredMethod, params: Record<string, unknown>, terminalId: string): Promise<any> => {
      const requestorInfo = { requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId } };
      const parsed = parseTablesParams(method, { requestorInfo, ...params });
      assert.ok(parsed.ok, JSON.stringify(parsed));
      const reply = await tables.handle({ ...rpcJob(loc, 'SearchOrdersV1', {}), method, dialect: 'dojo-tables', params: parsed.params, settings: {} });
      return (reply as { result: unknown }).result;
    };
    const pay = (orderId: string, id: string, baseAmount: number, terminalId: string) =>
      result('RecordPayment', {
        payment: {
          id, sessionId: tableSessionId(loc, orderId), baseAmount, currency: 'GBP', paymentSuccessful: true, attemptedAt: new Date().toISOString(),
          methodDetails: { method: 'PAYMENT_METHOD_CARD_PRESENT', cardPresentPaymentInfo: { entryMode: 'ENTRY_MODE_CONTACTLESS' } },
        },
      }, terminalId);
    const lockThenExpire = async (orderId: string, terminalId: string) => {
      assert.equal((await result('LockSession', { sessionId: tableSessionId(loc, orderId) }, terminalId)).billItems.totalAmount, 2000);
      await db.prisma.orderLock.update({ where: { locationId_orderId: { locationId: loc, orderId } }, data: { expiresAt: new Date(Date.now() - 10_000) } });
    };

    // TID-1 locked s-1; its payment comes 10 s past the lock's lifetime: recorded under that lock, never more than is owed.
    await lockThenExpire('s-1', 'TID-1');
    assert.equal((await pay('s-1', 'aaaaaaaa-0000-4000-8000-000000000001', 2001, 'TID-1')).errorCode, 'PAYMENT_NOT_RECORDED');
    assert.deepEqual(await pay('s-1', 'aaaaaaaa-0000-4000-8000-000000000002', 1500, 'TID-1'), {});
    const p = await db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc, paymentIntentId: 'aaaaaaaa-0000-4000-8000-000000000002' } } });
    assert.deepEqual([p.orderId, p.paidAmount, p.lockId], ['s-1', 1500n, 'dojo-tables:TID-1']);
    // Another terminal's payment is not taken under TID-1's expired lock.
    assert.equal((await pay('s-1', 'aaaaaaaa-0000-4000-8000-000000000003', 100, 'TID-2')).errorCode, 'SESSION_NOT_LOCKED');
    // Its unlock (Dojo unlocks after every payment) releases its own expired lock, which then takes no payment.
    assert.deepEqual(await result('UnlockSession', { sessionId: tableSessionId(loc, 's-1') }, 'TID-1'), {});
    assert.equal(await db.prisma.orderLock.count({ where: { locationId: loc, orderId: 's-1' } }), 0);
    assert.equal((await pay('s-1', 'aaaaaaaa-0000-4000-8000-000000000006', 100, 'TID-1')).errorCode, 'SESSION_NOT_LOCKED');

    // Once another terminal has locked the order, TID-1's late payment is refused.
    await lockThenExpire('s-2', 'TID-1');
    await result('LockSession', { sessionId: tableSessionId(loc, 's-2') }, 'TID-2');
    assert.equal((await pay('s-2', 'aaaaaaaa-0000-4000-8000-000000000004', 500, 'TID-1')).errorCode, 'SESSION_NOT_LOCKED');
    // And once the terminal unlocked the session, as before.
    await result('LockSession', { sessionId: tableSessionId(loc, 's-3') }, 'TID-1');
    assert.deepEqual(await result('UnlockSession', { sessionId: tableSessionId(loc, 's-3') }, 'TID-1'), {});
    assert.equal((await pay('s-3', 'aaaaaaaa-0000-4000-8000-000000000005', 500, 'TID-1')).errorCode, 'SESSION_NOT_LOCKED');
    assert.equal(await db.prisma.payment.count({ where: { locationId: loc, orderId: { in: ['s-2', 's-3'] } } }), 0);
  });

  it('a Connect PAT payment for a table goes to what card machines may pay: around a counter sale still running, never onto it', async () => {
    const loc = await pacVenue();
    await fx.table(loc, { id: 'P1', name: 'Table P1' });
    await fx.order(loc, { id: 'p-1', total: 1000, tableId: 'P1' });
    await fx.order(loc, { id: 'p-2', total: 500, tableId: 'P1' });
    // The counter takes 6.00 of the oldest order's 10.00 while the table's terminal pays 9.00 without a lock.
    const sale = await sent(loc, 'p1', 'p-1', 600n);
    const pat = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: () => Promise.reject(new Error('no events')) }, dialect: CONNECT_PAT });
    let n = 0;
    const pay = async (paymentId: string, amountPaid: number) => {
      const frame = ConnectPat.decodePatFrame(JSON.stringify({ jsonrpc: '2.0', id: `pat${++n}`, method: 'transactionResponse', params: { tableId: 'P1', currency: 'GBP', payments: [{ paymentId, amountPaid }] } }), { finalReceipt: true });
      assert.equal(frame.kind, 'request', JSON.stringify(frame));
      return pat.handle({ ...rpcJob(loc, 'SearchOrdersV1', {}), method: 'transactionResponse', rpcId: `pat${n}`, params: frame.kind === 'request' ? frame.params : {} });
    };
    const over = await pay('pat-over', 901);
    assert.ok('error' in over, `9.01 is more than the 9.00 card machines may pay: ${JSON.stringify(over)}`);
    const paid = await pay('pat-1', 900);
    assert.ok('result' in paid, JSON.stringify(paid));
    assert.deepEqual(paid.result, { tableId: 'P1', recorded: 1, amountDue: 0, currency: 'GBP' }, 'nothing left for card machines while the sale runs');
    assert.deepEqual([(await order(loc, 'p-1')).paidAmount, (await order(loc, 'p-2')).paidAmount], [400n, 500n], '4.00 on the oldest order, the rest on the next');
    // The counter sale is charged: the oldest order is paid in full, once.
    const done = await settle(loc, sale, { kind: 'transaction', transaction: approved(600) });
    assert.equal(done.kind === 'settled' && done.view.paymentId, sale);
    assert.deepEqual([(await order(loc, 'p-1')).paidAmount, (await order(loc, 'p-1')).payable], [1000n, false]);
  });
});
