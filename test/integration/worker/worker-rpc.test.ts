import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Client } from 'pg';
import type { EposMethod } from '@app/contracts';
import { EPOS_METHODS, isFailure, METHOD_INFO } from '@app/contracts';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { RpcClient, RpcWorkerHost, RPC_TRANSPORTS } from '@app/queue';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { call, errorOf, GBP, resultOf, rpcJob, seedVenue } from './fixtures';

for (const transport of RPC_TRANSPORTS) describe(`worker: every EPOS Data API method through the real queue [${transport}]`, () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let client: RpcClient;
  let host: RpcWorkerHost;
  let dispatcher: RpcDispatcher;
  let A: LocationFixture;
  let B: LocationFixture;
  const logLines: string[] = [];
  /**
   * Coverage is declared, not counted at run time: each test names the methods
   * it sends through the queue and checks that it sent exactly those; the last
   * test checks that the declarations cover every method. So the check holds
   * whichever tests a filtered run (--test-name-pattern) selects.
   */
  const declared = new Set<EposMethod>();
  let called = new Set<EposMethod>();
  const covers = (methods: EposMethod[], fn: () => Promise<void>) => {
    for (const m of methods) declared.add(m);
    return async () => {
      called = new Set();
      await fn();
      assert.deepEqual([...called].sort(), [...methods].sort(), 'the methods this test sends are the ones it declares');
    };
  };
  const rpc = async (loc: LocationFixture, method: EposMethod, params: object | undefined, over = {}) => {
    called.add(method);
    return call(client, loc.id, method, params, over);
  };
  const future = (ms: number) => new Date(Date.now() + ms).toISOString();

  before(async () => {
    db = await createTestDatabase('worker_rpc');
    fx = fixtures(db.prisma);
    A = await fx.location({ name: 'The Anchor' });
    B = await fx.location({ name: 'The Bell' });
    await seedVenue(fx, A.id);
    await seedVenue(fx, B.id);
    await fx.order(A.id, { id: 'A-1', total: 5000, tableId: 'T1', waiterId: 'w1' });
    await fx.order(A.id, { id: 'A-2', total: 3000, tableId: 'T2', waiterId: 'w2' });
    await fx.order(A.id, { id: 'A-3', total: 1200, collection: true });
    await fx.order(B.id, { id: 'B-1', total: 999, tableId: 'T1' });
    await db.prisma.billTemplate.create({
      data: {
        locationId: A.id,
        header: [
          { lineType: 'Logo', logo: { svgImage: '<svg xmlns="http://www.w3.org/2000/svg"/>' } },
          { lineType: 'MerchantName', merchantName: { name: 'The Anchor' } },
          { lineType: 'MerchantAddress', merchantAddress: { addressLines: ['1 Quay St', 'Bristol'], postcode: 'BS1 1AA' } },
          { lineType: 'MerchantPhoneNumber', merchantPhoneNumber: { phoneNumber: '+44 117 000 0000' } },
          { lineType: 'MerchantEmailAddress', merchantEmailAddress: { emailAddress: 'hello@anchor.example' } },
          { lineType: 'HorizontalLine', horizontalLine: { line: 'Double' } },
          { lineType: 'Text' }, // broken line: left out, not a broken bill
        ],
        footer: [
          { lineType: 'TaxNumber', taxNumber: { name: 'VAT', number: 'GB123456789' } },
          { lineType: 'Text', text: { value: 'Thank you!', size: 'Body', align: 'Center', bold: true } },
          { lineType: 'URL', url: { url: 'https://anchor.example/feedback', description: 'Feedback', showQR: true } },
        ],
      },
    });
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, cb) {
          logLines.push(String(chunk));
          cb();
        },
      }),
    );
    const ingest = new IngestDojoEvent(new DojoEventsRepository(db.prisma), { enqueue: async () => undefined }, logger);
    dispatcher = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: (cmd) => ingest.execute(cmd) } });
    const prefix = uniquePrefix('worker-rpc');
    host = new RpcWorkerHost({ redisUrl: testRedisUrl(), prefix, transport, concurrency: 8, handler: (job) => dispatcher.handle(job) });
    host.start();
    await host.waitUntilReady();
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, transport, replicaId: 'test-gw' });
    await client.start();
  });

  after(async () => {
    await client?.close();
    await host?.close();
    await db?.drop();
  });

  it('orders: search, get, create (idempotent on dojoOrderId), bill, cancel', covers(['SearchOrdersV1', 'GetOrderByIdV1', 'CreateOrderV1', 'GetOrderBillByIdV1', 'CancelOrderByIdV1', 'RecordOrderPaymentByIdV1'], async () => {
    const page = resultOf(await rpc(A, 'SearchOrdersV1', { dineIn: { tableId: 'T1' }, payableOnly: true }));
    assert.deepEqual(page.data.map((o: any) => o.id), ['A-1']);
    assert.equal(page.data[0].totalAmount.value, 5000);
    assert.equal(page.data[0].details.dineIn.waiterId, 'w1');

    assert.deepEqual(resultOf(await rpc(A, 'SearchOrdersV1', { dineIn: { waiterId: 'w2' } })).data.map((o: any) => o.id), ['A-2']);

    const one = resultOf(await rpc(A, 'GetOrderByIdV1', { orderId: 'A-3' }));
    assert.equal(one.details.orderType, 'Collection');
    assert.equal(one.items[0].modifiers[0].name, 'Cheese');
    assert.match(one.createdAt, /Z$/);

    const create = {
      dojoOrderId: 'dojo-order-1',
      items: [{ name: 'Soup', plu: 'S1', quantity: 1, amountPerItem: GBP(700) }],
      totalAmount: GBP(700),
      payments: [],
      details: { orderType: 'DineIn', dineIn: { tableId: 'T3' } },
      displayName: 'From Dojo',
    };
    const created = resultOf(await rpc(A, 'CreateOrderV1', create));
    assert.equal(created.status, 'New');
    assert.equal(created.payable, true);
    const again = resultOf(await rpc(A, 'CreateOrderV1', create));
    assert.equal(again.id, created.id, 'same dojoOrderId returns the same order');
    assert.equal(await db.prisma.order.count({ where: { locationId: A.id, dojoOrderId: 'dojo-order-1' } }), 1);
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: A.id, kind: 'order.created' } });
    assert.equal(feed.length, 1);
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: A.id, entityId: created.id, eventType: 'OrderUpdated' } }), 1);

    const bill = resultOf(await rpc(A, 'GetOrderBillByIdV1', { orderId: 'A-1' }));
    assert.deepEqual(bill.header.lines.map((l: any) => l.lineType), ['Logo', 'MerchantName', 'MerchantAddress', 'MerchantPhoneNumber', 'MerchantEmailAddress', 'HorizontalLine']);
    assert.deepEqual(bill.footer.lines.map((l: any) => l.lineType), ['TaxNumber', 'Text', 'URL']);
    assert.equal(bill.order.id, 'A-1');
    const billB = resultOf(await rpc(B, 'GetOrderBillByIdV1', { orderId: 'B-1' }));
    assert.deepEqual(billB.header.lines, [{ lineType: 'MerchantName', merchantName: { name: 'The Bell' } }]);

    const cancelled = resultOf(await rpc(A, 'CancelOrderByIdV1', { orderId: created.id }));
    assert.equal(cancelled.status, 'Canceled');
    assert.equal(cancelled.payable, false);
    assert.equal(resultOf(await rpc(A, 'CancelOrderByIdV1', { orderId: created.id })).status, 'Canceled');
    assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: A.id, kind: 'order.cancelled' } }), 1);
    errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: created.id, paymentIntentId: 'pi_cancelled', paidAmount: GBP(100) }), 'Conflict');
  }));

  it('locks: create, same lockId idempotent, other lock Conflict, extend, delete, expired lock replaced', covers(['CreateOrderLockV1', 'ExtendOrderLockV1', 'RecordOrderPaymentByIdV1', 'DeleteOrderLockV1'], async () => {
    await fx.order(A.id, { id: 'L-1', total: 2000, tableId: 'T3' });
    errorOf(await rpc(A, 'CreateOrderLockV1', { orderId: 'L-1', lockId: 'lk1', expiry: new Date(Date.now() - 1000).toISOString() }), 'InvalidRequest');
    const locked = resultOf(await rpc(A, 'CreateOrderLockV1', { orderId: 'L-1', lockId: 'lk1', expiry: future(60_000) }));
    assert.equal(locked.id, 'L-1');
    resultOf(await rpc(A, 'CreateOrderLockV1', { orderId: 'L-1', lockId: 'lk1', expiry: future(60_000) }));
    assert.match(errorOf(await rpc(A, 'CreateOrderLockV1', { orderId: 'L-1', lockId: 'lk2', expiry: future(60_000) }), 'Conflict'), /lk1/);
    assert.deepEqual(resultOf(await rpc(A, 'ExtendOrderLockV1', { orderId: 'L-1', lockId: 'lk1', expiry: future(120_000) })), {});
    errorOf(await rpc(A, 'ExtendOrderLockV1', { orderId: 'L-1', lockId: 'lk2', expiry: future(120_000) }), 'Conflict');
    const lock = await db.prisma.orderLock.findUniqueOrThrow({ where: { locationId_orderId: { locationId: A.id, orderId: 'L-1' } } });
    assert.ok(lock.expiresAt.getTime() > Date.now() + 100_000);
    // A payment under another lockId is refused; under the held lock it is fine.
    errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'L-1', paymentIntentId: 'pi_l0', paidAmount: GBP(100), lockId: 'lk2' }), 'Conflict');
    resultOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'L-1', paymentIntentId: 'pi_l1', paidAmount: GBP(100), lockId: 'lk1' }));
    errorOf(await rpc(A, 'DeleteOrderLockV1', { orderId: 'L-1', lockId: 'lk2' }), 'Conflict');
    const unlocked = resultOf(await rpc(A, 'DeleteOrderLockV1', { orderId: 'L-1', lockId: 'lk1' }));
    assert.equal(unlocked.paidAmount.value, 100);
    resultOf(await rpc(A, 'DeleteOrderLockV1', { orderId: 'L-1', lockId: 'lk1' })); // already released: fine
    errorOf(await rpc(A, 'ExtendOrderLockV1', { orderId: 'L-1', lockId: 'lk1', expiry: future(60_000) }), 'Conflict');
    // An expired lock releases itself: another lock may take the order.
    await db.prisma.orderLock.create({ data: { locationId: A.id, orderId: 'L-1', lockId: 'old', expiresAt: new Date(Date.now() - 5_000) } });
    resultOf(await rpc(A, 'CreateOrderLockV1', { orderId: 'L-1', lockId: 'lk3', expiry: future(60_000) }));
    assert.equal((await db.prisma.orderLock.findFirstOrThrow({ where: { locationId: A.id, orderId: 'L-1' } })).lockId, 'lk3');
    const kinds = (await db.prisma.venueFeedEntry.findMany({ where: { locationId: A.id, entityId: 'L-1' }, orderBy: { id: 'asc' } })).map((f) => f.kind);
    assert.deepEqual(kinds, ['lock.created', 'lock.extended', 'payment.recorded', 'lock.released', 'lock.created']);
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: A.id, entityId: 'L-1', eventType: 'OrderUpdated' } }), 5);
  }));

  it('payments: recorded, idempotent on the intent, refused when over, not payable or other amounts', covers(['RecordOrderPaymentByIdV1', 'SearchOrdersV1', 'CancelOrderByIdV1'], async () => {
    await fx.order(A.id, { id: 'P-1', total: 1000, tableId: 'T2' });
    const first = resultOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-1', paymentIntentId: 'pi_1', paidAmount: GBP(600), tipsAmount: GBP(50) }));
    assert.equal(first.paidAmount.value, 600);
    assert.equal(first.tipsAmount.value, 50);
    assert.equal(first.payable, true);
    assert.deepEqual(first.payments, [{ paymentIntentId: 'pi_1', paidAmount: GBP(600), tipsAmount: GBP(50) }]);
    const same = resultOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-1', paymentIntentId: 'pi_1', paidAmount: GBP(600), tipsAmount: GBP(50) }));
    assert.equal(same.paidAmount.value, 600, 'same intent again: unchanged');
    assert.match(errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-1', paymentIntentId: 'pi_1', paidAmount: GBP(700) }), 'Conflict'), /pi_1/);
    assert.match(errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-1', paymentIntentId: 'pi_2', paidAmount: GBP(401) }), 'Conflict'), /outstanding/);
    errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-1', paymentIntentId: 'pi_eur', paidAmount: { value: 10, currencyCode: 'EUR' } }), 'Conflict');
    const full = resultOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-1', paymentIntentId: 'pi_2', paidAmount: GBP(400) }));
    assert.equal(full.paidAmount.value, 1000);
    assert.equal(full.payable, false, 'fully paid orders stop being payable');
    assert.match(errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-1', paymentIntentId: 'pi_3', paidAmount: GBP(1) }), 'Conflict'), /not payable/);
    const ids = resultOf(await rpc(A, 'SearchOrdersV1', { payableOnly: true })).data.map((o: any) => o.id);
    assert.ok(!ids.includes('P-1'));
    await fx.order(A.id, { id: 'P-2', total: 1000, payable: false });
    errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-2', paymentIntentId: 'pi_p2', paidAmount: GBP(10) }), 'Conflict');
    await fx.order(A.id, { id: 'P-3', total: 1000, status: 'Finalized' });
    assert.match(errorOf(await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'P-3', paymentIntentId: 'pi_p3', paidAmount: GBP(10) }), 'Conflict'), /Finalized/);
    assert.equal(await db.prisma.payment.count({ where: { locationId: A.id, orderId: 'P-1' } }), 2);
    assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: A.id, entityId: 'P-1', kind: 'payment.recorded' } }), 2);
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: A.id, entityId: 'P-1', eventType: 'OrderUpdated' } }), 2);
    errorOf(await rpc(A, 'CancelOrderByIdV1', { orderId: 'P-1' }), 'Conflict');
  }));

  it('a retried JSON-RPC id is answered from processed_requests, not executed twice', covers(['RecordOrderPaymentByIdV1', 'CreateOrderV1'], async () => {
    await fx.order(A.id, { id: 'R-1', total: 1000 });
    const rpcId = 'dojo-retry-1';
    const one = await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'R-1', paymentIntentId: 'pi_r1', paidAmount: GBP(300) }, { rpcId });
    // The venue changes the order meanwhile; the retry must not see it.
    await db.prisma.order.update({ where: { locationId_id: { locationId: A.id, id: 'R-1' } }, data: { displayName: 'changed' } });
    const two = await rpc(A, 'RecordOrderPaymentByIdV1', { orderId: 'R-1', paymentIntentId: 'pi_r1', paidAmount: GBP(300) }, { rpcId });
    assert.deepEqual(two, one);
    const three = await rpc(A, 'CreateOrderV1', { dojoOrderId: 'x', items: [], totalAmount: GBP(1), payments: [], details: { orderType: 'Collection', collection: {} } }, { rpcId });
    errorOf(three, 'InvalidRequest');
    assert.equal(await db.prisma.processedRequest.count({ where: { locationId: A.id, rpcId } }), 1);
    assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: A.id, entityId: 'R-1' } }), 1);
    // The same id at another location is another request.
    errorOf(await rpc(B, 'RecordOrderPaymentByIdV1', { orderId: 'R-1', paymentIntentId: 'pi_r1', paidAmount: GBP(300) }, { rpcId }), 'NotFound');
  }));

  // Straight to the dispatcher (no queue), so it counts towards no method's coverage.
  it('a job whose deadline passes before it can commit rolls back', async () => {
    await fx.order(A.id, { id: 'D-1', total: 1000 });
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      await pg.query('BEGIN');
      await pg.query(`SELECT 1 FROM orders WHERE location_id = $1 AND id = 'D-1' FOR UPDATE`, [A.id]);
      const job = rpcJob(A.id, 'RecordOrderPaymentByIdV1', { orderId: 'D-1', paymentIntentId: 'pi_late', paidAmount: GBP(100) }, { deadline: Date.now() + 700 });
      const pending = dispatcher.handle(job);
      await sleep(1_200);
      await pg.query('COMMIT');
      const res = await pending;
      assert.match(errorOf(res, 'UnexpectedError'), /deadline/);
      assert.equal(await db.prisma.payment.count({ where: { locationId: A.id, paymentIntentId: 'pi_late' } }), 0);
      assert.equal(await db.prisma.processedRequest.count({ where: { locationId: A.id, rpcId: job.rpcId } }), 0);
      assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: A.id, entityId: 'D-1' } }), 0);
      // A job that arrives past its deadline is not run at all.
      const late = await dispatcher.handle(rpcJob(A.id, 'CancelOrderByIdV1', { orderId: 'D-1' }, { deadline: Date.now() - 1 }));
      errorOf(late, 'UnexpectedError');
      assert.equal((await db.prisma.order.findFirstOrThrow({ where: { locationId: A.id, id: 'D-1' } })).status, 'Accepted');
    } finally {
      await pg.end();
    }
  });;

  it('tables and areas', covers(['ListAreasV1', 'SearchTablesV1', 'SearchOrdersV1'], async () => {
    const areas = resultOf(await rpc(A, 'ListAreasV1', {}));
    assert.deepEqual(areas.map((a: any) => a.id), ['A1', 'A2']);
    const t = resultOf(await rpc(A, 'SearchTablesV1', { areaId: 'A1' }));
    assert.deepEqual(t.data.map((x: any) => x.id), ['T1', 'T2']);
    assert.deepEqual(resultOf(await rpc(A, 'SearchTablesV1', { waiterId: 'w2' })).data.map((x: any) => x.id), ['T2', 'T3']);
    const p1 = resultOf(await rpc(A, 'SearchTablesV1', { cursor: { limit: 2 } }));
    assert.deepEqual(p1.data.map((x: any) => x.id), ['T1', 'T2']);
    assert.equal(p1.before, undefined);
    const p2 = resultOf(await rpc(A, 'SearchTablesV1', { cursor: { limit: 2, after: p1.after } }));
    assert.deepEqual(p2.data.map((x: any) => x.id), ['T3']);
    assert.equal(p2.after, undefined);
    errorOf(await rpc(A, 'SearchTablesV1', { cursor: { after: resultOf(await rpc(A, 'SearchOrdersV1', { cursor: { limit: 1 } })).after } }), 'InvalidRequest');
  }));

  it('order search pages with opaque, stable cursors; a bad cursor is InvalidRequest', covers(['SearchOrdersV1'], async () => {
    for (let i = 0; i < 7; i++) await fx.order(A.id, { id: `PG-${i}`, tableId: 'T1', waiterId: 'pager' });
    const ids: string[] = [];
    let after: string | undefined;
    const pages: any[] = [];
    do {
      const page = resultOf(await rpc(A, 'SearchOrdersV1', { dineIn: { waiterId: 'pager' }, cursor: after ? { limit: 3, after } : { limit: 3 } }));
      pages.push(page);
      ids.push(...page.data.map((o: any) => o.id));
      after = page.after;
    } while (after);
    assert.deepEqual(ids, ['PG-0', 'PG-1', 'PG-2', 'PG-3', 'PG-4', 'PG-5', 'PG-6']);
    assert.deepEqual(pages.map((p) => p.data.length), [3, 3, 1]);
    assert.equal(pages[0].before, undefined);
    const back = resultOf(await rpc(A, 'SearchOrdersV1', { dineIn: { waiterId: 'pager' }, cursor: { limit: 3, before: pages[2].before } }));
    assert.deepEqual(back.data.map((o: any) => o.id), ['PG-3', 'PG-4', 'PG-5']);
    assert.ok(back.before && back.after);
    assert.doesNotMatch(pages[0].after, /^\d+$/, 'cursors are opaque, not raw sequence numbers');
    errorOf(await rpc(A, 'SearchOrdersV1', { cursor: { after: 'not-a-cursor!' } }), 'InvalidRequest');
    errorOf(await rpc(A, 'SearchOrdersV1', { cursor: { after: Buffer.from('o.abc').toString('base64url') } }), 'InvalidRequest');
    errorOf(await rpc(A, 'SearchOrdersV1', { cursor: { after: pages[0].after, before: pages[1].after } }), 'InvalidRequest');
    errorOf(await rpc(A, 'SearchOrdersV1', { cursor: { limit: 0 } }), 'InvalidRequest');
  }));

  it('parties: create (idempotent), get, update, search active/completed, delete', covers(['CreatePartyV1', 'GetPartyByIdV1', 'SearchPartiesV1', 'UpdatePartyV1', 'DeletePartyByIdV1'], async () => {
    const createReq = { dojoPartyId: 'dp-1', name: 'Smith', covers: 4, tableIds: ['T1'], startTime: '2026-11-21T18:00:00.000Z', expectedEndTime: '2026-11-21T20:00:00.000Z' };
    const party = resultOf(await rpc(A, 'CreatePartyV1', createReq));
    assert.equal(party.status, 'Seated');
    assert.equal(resultOf(await rpc(A, 'CreatePartyV1', createReq)).id, party.id);
    errorOf(await rpc(A, 'CreatePartyV1', { ...createReq, dojoPartyId: 'dp-x', tableIds: ['T9'] }), 'NotFound');
    assert.equal(resultOf(await rpc(A, 'GetPartyByIdV1', { partyId: party.id })).name, 'Smith');
    const other = resultOf(await rpc(A, 'CreatePartyV1', { dojoPartyId: 'dp-2', tableIds: ['T2'], startTime: '2026-11-21T18:30:00.000Z', status: 'Waiting' }));
    const active = resultOf(await rpc(A, 'SearchPartiesV1', {}));
    assert.deepEqual(active.data.map((p: any) => p.id), [party.id, other.id]);
    const ended = resultOf(
      await rpc(A, 'UpdatePartyV1', { id: party.id, dojoPartyId: 'dp-1', tableIds: ['T1', 'T2'], status: 'Left', startTime: createReq.startTime, endTime: '2026-11-21T20:05:00.000Z', covers: 5 }),
    );
    assert.equal(ended.endTime, '2026-11-21T20:05:00.000Z');
    assert.equal(ended.name, undefined, 'update sets the details to those provided');
    errorOf(await rpc(A, 'UpdatePartyV1', { id: party.id, dojoPartyId: 'dp-other', tableIds: ['T1'], status: 'Left', startTime: createReq.startTime }), 'InvalidRequest');
    assert.deepEqual(resultOf(await rpc(A, 'SearchPartiesV1', {})).data.map((p: any) => p.id), [other.id]);
    assert.deepEqual(resultOf(await rpc(A, 'SearchPartiesV1', { completedOnly: true })).data.map((p: any) => p.id), [party.id]);
    assert.deepEqual(resultOf(await rpc(A, 'SearchPartiesV1', { completedOnly: true, tableId: 'T3' })).data, []);
    errorOf(await rpc(B, 'GetPartyByIdV1', { partyId: party.id }), 'NotFound');
    assert.deepEqual(resultOf(await rpc(A, 'DeletePartyByIdV1', { partyId: party.id })), {});
    errorOf(await rpc(A, 'GetPartyByIdV1', { partyId: party.id }), 'NotFound');
    errorOf(await rpc(A, 'DeletePartyByIdV1', { partyId: party.id }), 'NotFound');
  }));

  it('reservations: create (idempotent), get, update, search by table and time, delete', covers(['CreateReservationV1', 'GetReservationByIdV1', 'SearchReservationsV1', 'UpdateReservationV1', 'DeleteReservationByIdV1'], async () => {
    const req = { dojoReservationId: 'dr-1', name: 'Jones', covers: 2, startTime: '2026-12-01T19:00:00.000Z', endTime: '2026-12-01T21:00:00.000Z', tableIds: ['T3'] };
    const r = resultOf(await rpc(A, 'CreateReservationV1', req));
    assert.equal(resultOf(await rpc(A, 'CreateReservationV1', req)).id, r.id);
    errorOf(await rpc(A, 'CreateReservationV1', { ...req, dojoReservationId: 'dr-bad', endTime: req.startTime }), 'InvalidRequest');
    const r2 = resultOf(await rpc(A, 'CreateReservationV1', { ...req, dojoReservationId: 'dr-2', tableIds: ['T1'], startTime: '2026-12-02T12:00:00.000Z', endTime: '2026-12-02T13:00:00.000Z' }));
    assert.equal(resultOf(await rpc(A, 'GetReservationByIdV1', { reservationId: r.id })).name, 'Jones');
    const byTable = resultOf(await rpc(A, 'SearchReservationsV1', { tableId: 'T3' }));
    assert.deepEqual(byTable.data.map((x: any) => x.id), [r.id]);
    const byTime = resultOf(await rpc(A, 'SearchReservationsV1', { fromTime: '2026-12-02T00:00:00.000Z', toTime: '2026-12-03T00:00:00.000Z' }));
    assert.deepEqual(byTime.data.map((x: any) => x.id), [r2.id]);
    const updated = resultOf(await rpc(A, 'UpdateReservationV1', { id: r.id, dojoReservationId: 'dr-1', name: 'Jones', covers: 6, startTime: req.startTime, endTime: req.endTime, tableIds: ['T2', 'T3'], hostNotes: 'window' }));
    assert.equal(updated.covers, 6);
    assert.equal(updated.hostNotes, 'window');
    errorOf(await rpc(B, 'UpdateReservationV1', { id: r.id, dojoReservationId: 'dr-1', name: 'x', covers: 1, startTime: req.startTime, endTime: req.endTime, tableIds: ['T1'] }), 'NotFound');
    assert.deepEqual(resultOf(await rpc(A, 'DeleteReservationByIdV1', { reservationId: r.id })), {});
    errorOf(await rpc(A, 'GetReservationByIdV1', { reservationId: r.id }), 'NotFound');
    assert.deepEqual(resultOf(await rpc(B, 'SearchReservationsV1', {})).data, []);
  }));

  it("a party's or reservation's update keeps a table the venue deleted since, and may not newly name one that is gone", covers(['CreatePartyV1', 'UpdatePartyV1', 'CreateReservationV1', 'UpdateReservationV1'], async () => {
    await fx.table(A.id, { id: 'T-gone', name: 'Patio' });
    const startTime = '2026-11-21T18:00:00.000Z';
    const party = resultOf(await rpc(A, 'CreatePartyV1', { dojoPartyId: 'dp-gone', tableIds: ['T1', 'T-gone'], startTime }));
    const other = resultOf(await rpc(A, 'CreatePartyV1', { dojoPartyId: 'dp-stays', tableIds: ['T1'], startTime }));
    const booking = { dojoReservationId: 'dr-gone', name: 'Lee', covers: 2, startTime: '2026-12-03T19:00:00.000Z', endTime: '2026-12-03T21:00:00.000Z', tableIds: ['T-gone'] };
    const r = resultOf(await rpc(A, 'CreateReservationV1', booking));
    // The venue deletes the table: parties and reservations do not hold one (DELETE tables/{id} checks open orders only).
    await db.prisma.diningTable.delete({ where: { locationId_id: { locationId: A.id, id: 'T-gone' } } });

    // What already names it is updated still naming it.
    const seated = resultOf(await rpc(A, 'UpdatePartyV1', { id: party.id, dojoPartyId: 'dp-gone', tableIds: ['T1', 'T-gone'], status: 'Seated', startTime, covers: 3 }));
    assert.deepEqual([seated.tableIds, seated.covers], [['T1', 'T-gone'], 3]);
    const rebooked = resultOf(await rpc(A, 'UpdateReservationV1', { id: r.id, ...booking, covers: 4 }));
    assert.deepEqual([rebooked.tableIds, rebooked.covers], [['T-gone'], 4]);
    // Naming it anew, or naming an unknown table beside it, is NotFound as before.
    assert.match(errorOf(await rpc(A, 'UpdatePartyV1', { id: other.id, dojoPartyId: 'dp-stays', tableIds: ['T1', 'T-gone'], status: 'Seated', startTime }), 'NotFound'), /T-gone/);
    assert.match(errorOf(await rpc(A, 'UpdatePartyV1', { id: party.id, dojoPartyId: 'dp-gone', tableIds: ['T-gone', 'T9'], status: 'Seated', startTime }), 'NotFound'), /T9/);
    assert.match(errorOf(await rpc(A, 'UpdateReservationV1', { id: r.id, ...booking, tableIds: ['T-gone', 'T9'] }), 'NotFound'), /T9/);
    assert.match(errorOf(await rpc(A, 'CreatePartyV1', { dojoPartyId: 'dp-new', tableIds: ['T-gone'], startTime }), 'NotFound'), /T-gone/);
  }));

  it("an update of a party or reservation the venue deletes meanwhile is NotFound, not an UnexpectedError", covers(['CreatePartyV1', 'UpdatePartyV1', 'CreateReservationV1', 'UpdateReservationV1'], async () => {
    const startTime = '2026-11-21T18:00:00.000Z';
    const party = resultOf(await rpc(A, 'CreatePartyV1', { dojoPartyId: 'dp-del', tableIds: ['T1'], startTime }));
    const booking = { dojoReservationId: 'dr-del', name: 'Kim', covers: 2, startTime: '2026-12-04T19:00:00.000Z', endTime: '2026-12-04T21:00:00.000Z', tableIds: ['T1'] };
    const r = resultOf(await rpc(A, 'CreateReservationV1', booking));
    const lockWaiters = async () =>
      (await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0]!.n;
    // The venue's DELETE holds the row (its transaction has it locked) while Dojo's update comes in, then commits.
    for (const [table, id, update] of [
      ['parties', party.id, () => rpc(A, 'UpdatePartyV1', { id: party.id, dojoPartyId: 'dp-del', tableIds: ['T1'], status: 'Seated', startTime, covers: 3 })],
      ['reservations', r.id, () => rpc(A, 'UpdateReservationV1', { id: r.id, ...booking, covers: 3 })],
    ] as const) {
      const venue = new Client({ connectionString: db.url });
      await venue.connect();
      try {
        await venue.query('BEGIN');
        await venue.query(`SELECT 1 FROM ${table} WHERE location_id = $1 AND id = $2 FOR UPDATE`, [A.id, id]);
        const answer = update();
        await waitFor(async () => (await lockWaiters()) >= 1 || undefined, `Dojo's update waiting for the ${table} row`);
        await venue.query(`DELETE FROM ${table} WHERE location_id = $1 AND id = $2`, [A.id, id]);
        await venue.query('COMMIT');
        assert.match(errorOf(await answer, 'NotFound'), new RegExp(id), table);
      } finally {
        await venue.end();
      }
    }
  }));

  it('CreateOrderV1 places a dine-in order only at a table the venue has, and not at one a delete holds and removes', covers(['CreateOrderV1'], async () => {
    const order = (dojoOrderId: string, tableId: string) => ({
      dojoOrderId, items: [{ name: 'Soup', plu: 'S1', quantity: 1, amountPerItem: GBP(700) }], totalAmount: GBP(700), payments: [],
      details: { orderType: 'DineIn', dineIn: { tableId } },
    });
    const placed = (dojoOrderId: string) => db.prisma.order.count({ where: { locationId: A.id, dojoOrderId } });
    assert.match(errorOf(await rpc(A, 'CreateOrderV1', order('do-nowhere', 'T9')), 'NotFound'), /table "T9"/);
    assert.equal(await placed('do-nowhere'), 0);
    await fx.table(A.id, { id: 'T-at-A', name: 'Snug' });
    assert.match(errorOf(await rpc(B, 'CreateOrderV1', order('do-elsewhere', 'T-at-A')), 'NotFound'), /T-at-A/, "another venue's table");

    // The venue's DELETE tables/{id} locks the table's row (FOR UPDATE), counts the open orders there, then deletes it.
    // An order placed meanwhile waits for it (its plan key-share-locks the table) and then finds the table gone;
    // when the delete does not go ahead (409 table_in_use, rolled back), the order is placed there.
    const lockWaiters = async () =>
      (await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0]!.n;
    for (const [tableId, deleted] of [['T-deleting', true], ['T-kept', false]] as const) {
      await fx.table(A.id, { id: tableId, name: tableId });
      const venue = new Client({ connectionString: db.url });
      await venue.connect();
      try {
        await venue.query('BEGIN');
        await venue.query('SELECT 1 FROM dining_tables WHERE location_id = $1 AND id = $2 FOR UPDATE', [A.id, tableId]);
        const answer = rpc(A, 'CreateOrderV1', order(`do-${tableId}`, tableId));
        await waitFor(async () => (await lockWaiters()) >= 1 || undefined, `the order waiting for table ${tableId}`);
        if (deleted) await venue.query('DELETE FROM dining_tables WHERE location_id = $1 AND id = $2', [A.id, tableId]);
        await venue.query(deleted ? 'COMMIT' : 'ROLLBACK');
        if (deleted) assert.match(errorOf(await answer, 'NotFound'), new RegExp(tableId));
        else assert.equal(resultOf(await answer).details.dineIn.tableId, tableId);
        assert.equal(await placed(`do-${tableId}`), deleted ? 0 : 1, tableId);
      } finally {
        await venue.end();
      }
    }
  }));

  it('HandleEventV1 answers {} once the event is stored, once per event id', covers(['HandleEventV1'], async () => {
    const event = { id: 'evt_1', accountId: A.dojoAccountId, event: 'payment_intent.status_updated', createdAt: new Date().toISOString(), data: { paymentIntentId: 'pi_1', paymentStatus: 'Captured', captureMode: 'Auto' } };
    assert.deepEqual(resultOf(await rpc(A, 'HandleEventV1', event)), {});
    assert.deepEqual(resultOf(await rpc(A, 'HandleEventV1', event)), {});
    const rows = await db.prisma.dojoEvent.findMany({ where: { locationId: A.id, eventId: 'evt_1' } });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.deliveries, 2);
    errorOf(await rpc(B, 'HandleEventV1', { ...event, id: 'evt_2' }), 'InvalidRequest');
  }));

  it("one venue never sees another's rows; errors carry a traceId that is in the logs", covers(['GetOrderByIdV1', 'CancelOrderByIdV1', 'GetOrderBillByIdV1', 'CreateOrderLockV1', 'ExtendOrderLockV1', 'DeleteOrderLockV1', 'RecordOrderPaymentByIdV1', 'SearchOrdersV1'], async () => {
    const traceId = randomUUID();
    const res = await rpc(A, 'GetOrderByIdV1', { orderId: 'B-1' }, { traceId });
    assert.match(errorOf(res, 'NotFound'), /B-1/);
    for (const [m, p] of [
      ['CancelOrderByIdV1', { orderId: 'B-1' }],
      ['GetOrderBillByIdV1', { orderId: 'B-1' }],
      ['CreateOrderLockV1', { orderId: 'B-1', lockId: 'x', expiry: future(60_000) }],
      ['ExtendOrderLockV1', { orderId: 'B-1', lockId: 'x', expiry: future(60_000) }],
      ['DeleteOrderLockV1', { orderId: 'B-1', lockId: 'x' }],
      ['RecordOrderPaymentByIdV1', { orderId: 'B-1', paymentIntentId: 'pi_x', paidAmount: GBP(1) }],
    ] as const) {
      errorOf(await rpc(A, m, p), 'NotFound');
    }
    const all = resultOf(await rpc(A, 'SearchOrdersV1', { cursor: { limit: 100 } })).data.map((o: any) => o.id);
    assert.ok(!all.includes('B-1'));
    assert.deepEqual(resultOf(await rpc(B, 'SearchOrdersV1', {})).data.map((o: any) => o.id), ['B-1']);
    const line = logLines.find((l) => l.includes(traceId));
    assert.ok(line, 'the traceId appears in the logs');
    const parsed = JSON.parse(line);
    assert.equal(parsed.rpcId, (res as any).id);
    assert.equal(parsed.locationId, A.id);
    assert.equal(isFailure(res) && res.error.traceId, traceId);
  }));

  it('covered all 22 methods (declared by the tests above, whichever of them ran)', () => {
    assert.equal(EPOS_METHODS.length, 22);
    assert.deepEqual(Object.keys(METHOD_INFO).sort(), [...EPOS_METHODS].sort());
    assert.deepEqual([...declared].sort(), [...EPOS_METHODS].sort(), 'every method has a test that sends it through the queue');
  });
});
