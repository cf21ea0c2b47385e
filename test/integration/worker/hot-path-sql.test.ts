/**
 * The raw-SQL hot paths of the RpcDispatcher (one-statement order reads, the
 * planned mutations that compute the returned order instead of reading it
 * again) give exactly what the Prisma reads give: the returned order equals a
 * fresh read, pages and cursors equal the keyset reference, every query stays
 * within its location, and the payment path still applies Dojo events that
 * waited for the payment.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import type { JsonRpcResponse, Models } from '@app/contracts';
import { isFailure } from '@app/contracts';
import type { PrismaClient } from '@app/db';
import { lockPaymentIntent } from '@app/domain/events/event-effects';
import { ORDER_INCLUDE, orderToDojo } from '@app/domain/orders/order-mapper';
import { paymentIntentLockKey } from '@app/domain/core/rules';
import { CreateOrder } from '@app/domain/orders/usecases/create-order.usecase';
import { placeOrder } from '@app/domain/dialects/epos-data/orders.mapping';
import { ordersRepo } from '@app/domain/repositories/orders.repository';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { eventPayload } from '../events/fixtures';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';
import { GBP, rpcJob } from './fixtures';

describe('worker: raw-SQL hot paths answer as the Prisma reads would', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;
  let dispatcher: RpcDispatcher;
  let locA: string;
  let locB: string;

  before(async () => {
    db = await createTestDatabase('hotsql');
    prisma = db.prisma;
    dispatcher = new RpcDispatcher({ prisma, logger: createLogger('t', 'silent'), events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
    const fx = fixtures(prisma);
    locA = (await fx.location({ name: 'A' })).id;
    locB = (await fx.location({ name: 'B' })).id;
    for (let i = 1; i <= 7; i++) {
      await fx.order(locA, { id: `o${i}`, tableId: i % 2 ? 'T1' : 'T2', payable: i !== 3 });
      await fx.order(locB, { id: `o${i}`, tableId: 'T1' });
    }
  });
  after(async () => {
    await db?.drop();
  });

  const call = async (loc: string, method: Parameters<typeof rpcJob>[1], params: object): Promise<JsonRpcResponse> =>
    dispatcher.handle(rpcJob(loc, method, params));
  const ok = async <T>(loc: string, method: Parameters<typeof rpcJob>[1], params: object): Promise<T> => {
    const res = await call(loc, method, params);
    if (isFailure(res)) assert.fail(`${method}: ${JSON.stringify(res.error)}`);
    return (res as { result: T }).result;
  };
  /** The order as the Prisma include read maps it (the reference). */
  const prismaRead = async (loc: string, id: string) =>
    orderToDojo((await prisma.order.findUnique({ where: { locationId_id: { locationId: loc, id } }, include: ORDER_INCLUDE }))!);

  it('the positional order JSON reads back every column Prisma reads, items and payments included', async () => {
    // Every column set to something other than its default, so a position read from the wrong place shows.
    await prisma.order.create({
      data: {
        locationId: locA, id: 'rich', origin: 'dojo', dojoOrderId: 'dj-rich', reference: 'REF-9', displayName: 'Table nine', note: 'no onions',
        status: 'Ready', orderType: 'Collection', tableId: 'T9', waiterId: 'w9', partyId: 'party-9', reservationId: 'res-9',
        readyAt: new Date('2026-11-30T18:01:02.003Z'), collectionAsap: false, collectAt: new Date('2026-11-30T19:00:00.000Z'),
        customer: { name: 'Ada', phone: '+44' }, discounts: [{ name: 'staff', amount: 50 }], taxLines: [{ rate: 20, amount: 200 }],
        currency: 'EUR', totalAmount: 12_345n, serviceChargeAmount: 1_234n, paidAmount: 1_000n, tipsAmount: 150n, payable: false, version: 7,
        items: {
          create: [
            { position: 2, name: 'Chips', plu: 'P-2', quantity: 3, amountPerItem: 250n, note: 'crispy', modifiers: [{ name: 'salt' }], subItems: [{ name: 'dip' }] },
            { position: 1, name: 'Fish', plu: 'P-1', quantity: 1, amountPerItem: 1_200n },
          ],
        },
        payments: {
          create: [
            { paymentIntentId: 'pi_b', currency: 'EUR', paidAmount: 600n, tipsAmount: 100n, cashbackAmount: 20n, refundedAmount: 5n, lockId: 'lk9', state: 'Refunded', intentStatus: 'Captured', createdAt: new Date('2026-11-30T18:10:00.000Z') },
            { paymentIntentId: 'pi_a', currency: 'EUR', paidAmount: 400n, tipsAmount: 50n, createdAt: new Date('2026-11-30T18:05:00.000Z') },
          ],
        },
      },
    });
    const { sessionId: _generated, ...reference } = (await prisma.order.findUnique({ where: { locationId_id: { locationId: locA, id: 'rich' } }, include: ORDER_INCLUDE }))!;
    assert.deepEqual(await ordersRepo(prisma).find(locA, 'rich'), reference);
    const page = await ordersRepo(prisma).search(locA, { tableId: 'T9' }, { limit: 5 });
    assert.deepEqual(page.rows, [reference]);
    await prisma.order.delete({ where: { locationId_id: { locationId: locA, id: 'rich' } } });
  });

  it('GetOrderById equals the Prisma read; another location\'s order is NotFound', async () => {
    assert.deepEqual(await ok(locA, 'GetOrderByIdV1', { orderId: 'o2' }), await prismaRead(locA, 'o2'));
    await prisma.order.create({ data: { locationId: locB, id: 'onlyB', orderType: 'Collection', currency: 'GBP', totalAmount: 100n } });
    const res = await call(locA, 'GetOrderByIdV1', { orderId: 'onlyB' });
    assert.ok(isFailure(res));
    assert.equal((res as { error: { errorType: string } }).error.errorType, 'NotFound');
  });

  it('SearchOrders pages forwards and backwards like the keyset reference, within the location', async () => {
    const reference = async (where: object) =>
      Promise.all((await prisma.order.findMany({ where: { locationId: locA, ...where }, orderBy: { seq: 'asc' }, select: { id: true } })).map((o) => prismaRead(locA, o.id)));
    for (const [filter, where] of [
      [{}, {}],
      [{ dineIn: { tableId: 'T1' } }, { tableId: 'T1' }],
      [{ dineIn: { tableId: 'T1' }, payableOnly: true }, { tableId: 'T1', payable: true }],
    ] as const) {
      const all = await reference(where);
      const seen: Models.Order[] = [];
      let page = await ok<Models.PagedOrdersResponse>(locA, 'SearchOrdersV1', { ...filter, cursor: { limit: 2 } });
      assert.equal(page.before, undefined, 'the first page has nothing before it');
      const pages = [page];
      seen.push(...page.data);
      while (page.after) {
        page = await ok<Models.PagedOrdersResponse>(locA, 'SearchOrdersV1', { ...filter, cursor: { limit: 2, after: page.after } });
        assert.ok(page.before, 'a later page points back');
        pages.push(page);
        seen.push(...page.data);
      }
      assert.deepEqual(seen, all, `forward pages of ${JSON.stringify(filter)}`);
      // Back from the last page: each page equals the forward one before it.
      for (let i = pages.length - 1; i > 0; i--) {
        const back = await ok<Models.PagedOrdersResponse>(locA, 'SearchOrdersV1', { ...filter, cursor: { limit: 2, before: pages[i]!.before } });
        assert.deepEqual(back.data, pages[i - 1]!.data);
        assert.equal(back.after !== undefined, true);
        assert.equal(back.before !== undefined, i - 1 > 0);
      }
    }
    const empty = await ok<Models.PagedOrdersResponse>(locA, 'SearchOrdersV1', { dineIn: { tableId: 'nope' } });
    assert.deepEqual(empty, { data: [] });
  });

  it('lock, payments, release and cancel return exactly what a fresh read gives', async () => {
    const expiry = new Date(Date.now() + 60_000).toISOString();
    assert.deepEqual(await ok(locA, 'CreateOrderLockV1', { orderId: 'o1', lockId: 'L1', expiry }), await prismaRead(locA, 'o1'));
    for (const [pi, paid, tips] of [['pi1', 1000, 0], ['pi0', 0, 0], ['pi2', 1500, 250], ['pi3', 2500, 0]] as const) {
      const got = await ok<Models.Order>(locA, 'RecordOrderPaymentByIdV1', { orderId: 'o1', paymentIntentId: pi, lockId: 'L1', paidAmount: GBP(paid), tipsAmount: GBP(tips) });
      assert.deepEqual(got, await prismaRead(locA, 'o1'), `after ${pi}`);
    }
    const final = await prismaRead(locA, 'o1');
    assert.equal(final.paidAmount!.value, 5000);
    assert.equal(final.tipsAmount!.value, 250);
    assert.equal(final.payable, false);
    assert.equal(final.payments!.length, 4);
    assert.deepEqual(await ok(locA, 'DeleteOrderLockV1', { orderId: 'o1', lockId: 'L1' }), await prismaRead(locA, 'o1'));
    // Location B's o1 is untouched by all of this.
    const b1 = await prismaRead(locB, 'o1');
    assert.equal(b1.paidAmount!.value, 0);
    assert.equal(await prisma.orderLock.count({ where: { locationId: locB } }), 0);
    assert.deepEqual(await ok(locA, 'CancelOrderByIdV1', { orderId: 'o4' }), await prismaRead(locA, 'o4'));
    assert.equal((await prismaRead(locA, 'o4')).status, 'Canceled');
    // Each change wrote one feed entry and one POS event, and stored its response.
    assert.equal(await prisma.venueFeedEntry.count({ where: { locationId: locA, entityId: 'o1', kind: 'payment.recorded' } }), 4);
    assert.equal(await prisma.outboxEvent.count({ where: { locationId: locA, entityId: 'o1' } }), 6);
    assert.equal(await prisma.processedRequest.count({ where: { locationId: locA, method: 'RecordOrderPaymentByIdV1' } }), 4);
  });

  it('CreateOrder returns what a fresh read gives, is idempotent on dojoOrderId and refuses a recorded intent', async () => {
    const req = {
      dojoOrderId: 'dojo-1',
      totalAmount: GBP(3000),
      items: [{ name: 'Tea', plu: 'T', quantity: 3, amountPerItem: GBP(1000), modifiers: [], subItems: [] }],
      taxLines: [],
      discounts: [],
      note: 'window seat',
      details: { orderType: 'Collection', collection: { asap: true } },
      payments: [{ paymentIntentId: 'pi-c1', paidAmount: GBP(1000), tipsAmount: GBP(50) }, { paidAmount: GBP(500) }],
    };
    const created = await ok<Models.Order>(locA, 'CreateOrderV1', req);
    assert.deepEqual(created, await prismaRead(locA, created.id!));
    assert.equal(created.paidAmount!.value, 1500);
    assert.equal(created.payments!.length, 2);
    assert.deepEqual(await ok(locA, 'CreateOrderV1', req), created);
    const none = await ok<Models.Order>(locA, 'CreateOrderV1', { ...req, dojoOrderId: 'dojo-2', payments: [] });
    assert.deepEqual(none, await prismaRead(locA, none.id!));
    const clash = await call(locA, 'CreateOrderV1', { ...req, dojoOrderId: 'dojo-3' });
    assert.ok(isFailure(clash));
    assert.match((clash as { error: { debugMessage: string } }).error.debugMessage, /payment intent pi-c1 is already recorded against order/);
    assert.equal(await prisma.order.count({ where: { locationId: locA, dojoOrderId: 'dojo-3' } }), 0);
    // The same intent at another location is no clash.
    const atB = await ok<Models.Order>(locB, 'CreateOrderV1', req);
    assert.deepEqual(atB, await prismaRead(locB, atB.id!));
  });

  it('CreateOrder applies the Dojo events that came first for its payments (order and pay) and answers the order after them', async () => {
    // Order and pay: Dojo took the payment, its events came before CreateOrderV1 and wait for the payment.
    const account = (await prisma.location.findUniqueOrThrow({ where: { id: locA } })).dojoAccountId;
    const events = new DojoEventsRepository(prisma);
    const apply = new ApplyDojoEvent(prisma, createLogger('t', 'silent'));
    const at = Date.now();
    for (const [i, [id, status]] of ([['evt-op-1', 'Captured'], ['evt-op-2', 'Reversed']] as const).entries()) {
      const when = new Date(at + i);
      const row = await events.store(locA, eventPayload(account, id, 'payment_intent.status_updated', 'pi-op', status, when), 'webhook', when);
      assert.equal((await apply.execute({ eventRowId: row!.id })).outcome, 'pending_payment');
    }
    const created = await ok<Models.Order>(locA, 'CreateOrderV1', {
      dojoOrderId: 'dojo-op',
      totalAmount: GBP(1000),
      items: [{ name: 'Pie', plu: 'P', quantity: 1, amountPerItem: GBP(1000), modifiers: [], subItems: [] }],
      taxLines: [],
      discounts: [],
      details: { orderType: 'Collection', collection: { asap: true } },
      payments: [{ paymentIntentId: 'pi-op', paidAmount: GBP(1000) }],
    });
    assert.equal(created.paidAmount!.value, 0, 'the payment was reversed before the order reached the EPOS');
    assert.deepEqual(created, await prismaRead(locA, created.id!));
    const rows = await prisma.dojoEvent.findMany({ where: { locationId: locA, paymentIntentId: 'pi-op' } });
    assert.deepEqual(rows.map((r) => r.state), ['applied', 'applied']);
    assert.equal((await prisma.payment.findFirstOrThrow({ where: { locationId: locA, paymentIntentId: 'pi-op' } })).state, 'Reversed');
  });

  it('CreateOrder has one write path: a DineIn order paid in full equals a fresh read and is idempotent; without the plan nothing is written', async () => {
    await fixtures(prisma).table(locA, { id: 'T9' });
    const req: Models.CreateOrderRequest = {
      dojoOrderId: 'dojo-own',
      totalAmount: GBP(2000),
      items: [{ name: 'Cake', plu: 'C', quantity: 2, amountPerItem: GBP(1000) }],
      details: { orderType: 'DineIn', dineIn: { tableId: 'T9' } },
      payments: [{ paymentIntentId: 'pi-own', paidAmount: GBP(2000) }],
    };
    const created = await ok<Models.Order>(locA, 'CreateOrderV1', req);
    assert.deepEqual(created, await prismaRead(locA, created.id!));
    assert.equal(created.payable, false, 'fully paid by its payment');
    assert.deepEqual(await ok(locA, 'CreateOrderV1', req), created, 'the same dojoOrderId returns the order created first');
    assert.equal(await prisma.order.count({ where: { locationId: locA, dojoOrderId: 'dojo-own' } }), 1);
    // Run outside RpcDispatcher (no plan read under its locks), the use-case refuses instead of taking a second path.
    const own = prisma.$transaction((tx) =>
      new CreateOrder().execute(
        { db: tx, locationId: locA, rpcId: 'own', traceId: 't', log: createLogger('t', 'silent'), now: new Date() },
        placeOrder.toCommand({ ...req, dojoOrderId: 'dojo-own-2' }),
      ),
    );
    await assert.rejects(own, /runs under RpcDispatcher with its plan/);
    assert.equal(await prisma.order.count({ where: { locationId: locA, dojoOrderId: 'dojo-own-2' } }), 0);
  });

  it('a replayed id answers the stored response of the planned write', async () => {
    const job = rpcJob(locA, 'RecordOrderPaymentByIdV1', { orderId: 'o5', paymentIntentId: 'pi-r', paidAmount: GBP(100) });
    const first = await dispatcher.handle(job);
    const again = await dispatcher.handle(job);
    assert.deepEqual(again, first);
    assert.equal(await prisma.payment.count({ where: { locationId: locA, orderId: 'o5' } }), 1);
  });

  it('a payment applies the Dojo events that waited for it, and returns the order as read after them', async () => {
    const loc = await prisma.location.findUniqueOrThrow({ where: { id: locA } });
    await prisma.dojoEvent.create({
      data: {
        locationId: locA, dojoAccountId: loc.dojoAccountId, eventId: 'ev-refund', eventType: 'payment_intent.status_updated',
        paymentIntentId: 'pi-late', paymentStatus: 'Refunded', occurredAt: new Date(), channel: 'webhook', payload: {}, state: 'pending_payment',
      },
    });
    const got = await ok<Models.Order>(locA, 'RecordOrderPaymentByIdV1', { orderId: 'o6', paymentIntentId: 'pi-late', paidAmount: GBP(700) });
    assert.deepEqual(got, await prismaRead(locA, 'o6'));
    assert.equal(got.paidAmount!.value, 0, 'the refund applied before the order was returned');
    assert.equal((await prisma.dojoEvent.findFirstOrThrow({ where: { eventId: 'ev-refund' } })).state, 'applied');
  });

  it('the payment path takes the same intent lock as the events worker', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = prisma.$transaction(async (tx) => {
      await lockPaymentIntent(tx, locA, 'pi-x');
      locked();
      await held;
    });
    await isLocked;
    const rows = await prisma.$queryRaw<{ got: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtextextended(${paymentIntentLockKey(locA, 'pi-x')}, 0)) AS got`;
    release();
    await holder;
    assert.equal(rows[0]!.got, false);
  });
});
