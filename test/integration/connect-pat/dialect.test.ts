/**
 * The Connect PAT dialect against real Postgres: every message and refusal
 * answered by RpcDispatcher with the CONNECT_PAT dialect (the worker's path),
 * table locks shared with the EPOS Data dialect's order locks, a table payment
 * split over two orders, idempotent repeats, concurrency, and every reply
 * checked against the codec's result schemas.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLogger } from '@app/common';
import { ConnectPat, isFailure } from '@app/contracts';
import type { JsonRpcResponse } from '@app/contracts';
import type { PatReply } from '@app/domain/rpc';
import { CONNECT_PAT, EPOS_DATA, RpcDispatcher } from '@app/domain/rpc';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';

const log = createLogger('connect-pat-test', 'silent');
const C = ConnectPat.PAT_ERROR_CODES;

describe('Connect PAT dialect: table-level pay at table through the shared commands', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let A: LocationFixture;
  let pat: RpcDispatcher<PatReply, ConnectPat.PatError>;
  let epos: RpcDispatcher;
  let n = 0;

  const send = async (method: ConnectPat.PatMethod, params: object, rpcId = `r${++n}`): Promise<PatReply> => {
    // The edge first (as the gateway does), so the params are what the codec accepts.
    const d = ConnectPat.decodePatFrame(JSON.stringify({ jsonrpc: '2.0', id: rpcId, method, params }), { finalReceipt: true });
    assert.equal(d.kind, 'request', JSON.stringify(d));
    const reply = await pat.handle({ locationId: A.id, method, rpcId, params: d.kind === 'request' ? d.params : params, deadline: Date.now() + 10_000, traceId: randomUUID(), fence: 1 });
    assert.equal(reply.id, rpcId);
    if ('result' in reply) assert.equal(ConnectPat.patResultProblem(method, reply.result), undefined, JSON.stringify(reply.result));
    else assert.ok(ConnectPat.errorMessageSchema.safeParse(reply.error).success);
    return reply;
  };
  const result = (r: PatReply): any => {
    assert.ok('result' in r, `expected a result, got ${JSON.stringify(r)}`);
    return r.result;
  };
  const error = (r: PatReply): ConnectPat.PatError => {
    assert.ok('error' in r, `expected an error, got ${JSON.stringify(r)}`);
    return r.error;
  };
  const eposCall = (method: string, params: object): Promise<JsonRpcResponse> =>
    epos.handle({ locationId: A.id, method, rpcId: `e${++n}`, params, deadline: Date.now() + 10_000, traceId: randomUUID(), fence: 1 });
  const order = (id: string) => db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: A.id, id } } });
  const locks = async () => (await db.prisma.orderLock.findMany({ where: { locationId: A.id }, orderBy: { orderId: 'asc' } })).map((l) => [l.orderId, l.lockId]);

  before(async () => {
    db = await createTestDatabase('connect_pat');
    fx = fixtures(db.prisma);
    A = await fx.location({ name: 'The Anchor' });
    for (const id of ['T1', 'T2', 'T3', 'T4', 'T5']) await fx.table(A.id, { id, name: `Table ${id}` });
    await fx.order(A.id, { id: 'o1', total: 1000, tableId: 'T1' });
    await fx.order(A.id, { id: 'o2', total: 500, tableId: 'T1' });
    await fx.order(A.id, { id: 'o3', total: 700, tableId: 'T2' });
    await fx.order(A.id, { id: 'o4', total: 800, tableId: 'T4' });
    await fx.order(A.id, { id: 'o5', total: 1000, tableId: 'T5' });
    for (const id of ['T7', 'T8']) await fx.table(A.id, { id, name: `Table ${id}` });
    await fx.order(A.id, { id: 'o7', total: 1000, tableId: 'T7' });
    await fx.order(A.id, { id: 'o8', total: 800, tableId: 'T8' });
    // An order at a table the venue no longer has is not listed.
    await fx.table(A.id, { id: 'T6' });
    await fx.order(A.id, { id: 'o6', total: 100, tableId: 'T6' });
    await db.prisma.diningTable.delete({ where: { locationId_id: { locationId: A.id, id: 'T6' } } });
    await db.prisma.billTemplate.create({
      data: {
        locationId: A.id,
        header: [{ lineType: 'MerchantName', merchantName: { name: 'The Anchor' } }, { lineType: 'HorizontalLine', horizontalLine: { line: 'Single' } }],
        footer: [{ lineType: 'Text', text: { value: 'Thank you', size: 'Body' } }],
      },
    });
    pat = new RpcDispatcher({ prisma: db.prisma, logger: log, events: { ingest: () => Promise.reject(new Error('no events in Connect PAT')) }, dialect: CONNECT_PAT });
    epos = new RpcDispatcher({ prisma: db.prisma, logger: log, events: { ingest: () => Promise.reject(new Error('not used')) }, dialect: EPOS_DATA });
  });

  after(async () => {
    await db?.drop();
  });

  it('tableListRequest lists the tables with something to pay, with the currency', async () => {
    assert.deepEqual(result(await send('tableListRequest', {})), { tables: ['T1', 'T2', 'T4', 'T5', 'T7', 'T8'], currency: 'GBP' });
  });

  it('tableLockRequest locks every payable order at the table with the EPOS Data order lock, answered with the amount due', async () => {
    assert.deepEqual(result(await send('tableLockRequest', { tableId: 'T1', tid: 'TID1' })), { tableId: 'T1', confirmed: true, amount: 1500, currency: 'GBP' });
    assert.deepEqual(await locks(), [['o1', 'connect-pat:T1:TID1'], ['o2', 'connect-pat:T1:TID1']]);
    // Held for the dialect's lock lifetime (CONNECT_PAT_LOCK_TTL_MS, 10 minutes by default).
    const held = (await db.prisma.orderLock.findFirstOrThrow({ where: { locationId: A.id } })).expiresAt.getTime() - Date.now();
    assert.ok(held > 9 * 60_000 && held <= 10 * 60_000, `held for ${held} ms`);
    // The same terminal again: idempotent.
    assert.equal(result(await send('tableLockRequest', { tableId: 'T1', tid: 'TID1' })).confirmed, true);
    // Another terminal: not confirmed, nothing changed.
    const other = result(await send('tableLockRequest', { tableId: 'T1', tid: 'TID2' }));
    assert.equal(other.confirmed, false);
    assert.match(other.userMessage, /locked by another terminal/);
    // The EPOS Data dialect sees the same lock on one order of the table.
    const res = await eposCall('CreateOrderLockV1', { orderId: 'o2', lockId: 'dojo-lock', expiry: new Date(Date.now() + 60_000).toISOString() });
    assert.ok(isFailure(res) && res.error.errorType === 'Conflict', JSON.stringify(res));
    assert.deepEqual(await locks(), [['o1', 'connect-pat:T1:TID1'], ['o2', 'connect-pat:T1:TID1']]);
  });

  it('an EPOS Data lock on one order refuses the table lock, all or none', async () => {
    const r = await eposCall('CreateOrderLockV1', { orderId: 'o4', lockId: 'dojo-lock-4', expiry: new Date(Date.now() + 60_000).toISOString() });
    assert.ok(!isFailure(r), JSON.stringify(r));
    const lock = result(await send('tableLockRequest', { tableId: 'T4' }));
    assert.equal(lock.confirmed, false);
    assert.deepEqual((await locks()).filter(([o]) => o === 'o4'), [['o4', 'dojo-lock-4']]);
  });

  it('a table with nothing to pay is not confirmed; an unknown table is an errorMessage', async () => {
    const r = result(await send('tableLockRequest', { tableId: 'T3' }));
    assert.deepEqual([r.confirmed, r.userMessage], [false, 'table T3 has nothing to pay']);
    const e = error(await send('tableLockRequest', { tableId: 'T9' }));
    assert.equal(e.code, C.tableNotFound);
    assert.match(e.message, /table "T9" was not found/);
    assert.equal(typeof e.userMessage, 'string');
    assert.equal(error(await send('posReceiptRequest', { tableId: 'T9' })).code, C.tableNotFound);
    assert.equal(error(await send('tableUnlock', { tableId: 'T9' })).code, C.tableNotFound);
  });

  it('posReceiptRequest: the bill template and the table orders in receipt lines, with what is due', async () => {
    const lines: ConnectPat.ReceiptLine[] = result(await send('posReceiptRequest', { tableId: 'T1' })).receiptLines;
    assert.deepEqual(lines[0], { type: 'TEXT', format: ['BOLD', 'DOUBLE_HEIGHT'], value: 'The Anchor' });
    assert.ok(lines.some((l) => /^Due +£15\.00$/.test(l.value ?? '')), JSON.stringify(lines));
    assert.ok(lines.some((l) => l.value === 'Thank you'));
    assert.ok(lines.some((l) => l.type === 'BARCODE_CODE128' && l.value === 'T1'));
  });

  it('transactionResponse records a table payment over two orders, oldest first, once per payment id', async () => {
    const tx = { tableId: 'T1', tid: 'TID1', currency: 'GBP', amountPaid: 1200, amountGratuity: 150, amountCashback: 500,
      payments: [{ paymentId: 'pay-1 ', amountPaid: 1200, amountGratuity: 150, amountCashback: 500, authCode: 'A1', cardSchemeName: 'VISA' }] };
    assert.deepEqual(result(await send('transactionResponse', tx)), { tableId: 'T1', recorded: 1, amountDue: 300, currency: 'GBP' });
    const [o1, o2] = [await order('o1'), await order('o2')];
    assert.deepEqual([o1.paidAmount, o1.tipsAmount, o1.payable], [1000n, 150n, false]);
    assert.deepEqual([o2.paidAmount, o2.tipsAmount, o2.payable], [200n, 0n, true]);
    const pays = await db.prisma.payment.findMany({ where: { locationId: A.id }, orderBy: { paymentIntentId: 'asc' } });
    assert.deepEqual(pays.map((p) => [p.paymentIntentId, p.orderId, p.paidAmount]), [['pay-1', 'o1', 1000n], ['pay-1/2', 'o2', 200n]]);
    // The venue sees both in its feed, as for any payment.
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: A.id, kind: 'payment.recorded' } });
    assert.equal(feed.length, 2);

    // Repeated (a new message id, the same payment id): recorded once.
    assert.deepEqual(result(await send('transactionResponse', tx)), { tableId: 'T1', recorded: 0, amountDue: 300, currency: 'GBP' });
    // The same message id again: the stored answer.
    assert.deepEqual(result(await send('transactionResponse', tx, 'same-id')), { tableId: 'T1', recorded: 0, amountDue: 300, currency: 'GBP' });
    assert.deepEqual(result(await send('transactionResponse', { ...tx, tid: 'TID9' }, 'same-id')).recorded, 0);
    // The same payment id with other amounts: refused.
    const mismatch = error(await send('transactionResponse', { ...tx, amountPaid: 1100, amountGratuity: undefined, amountCashback: undefined, payments: [{ paymentId: 'pay-1', amountPaid: 1100 }] }));
    assert.equal(mismatch.code, C.conflict);
    assert.equal(await db.prisma.payment.count({ where: { locationId: A.id } }), 2);
  });

  it('transactionResponse never overpays; a declined payment records nothing', async () => {
    const over = error(await send('transactionResponse', { tableId: 'T1', currency: 'GBP', payments: [{ paymentId: 'pay-over', amountPaid: 301 }] }));
    assert.equal(over.code, C.conflict);
    assert.match(over.message, /301 is more than the 300 outstanding/);
    const declined = result(await send('transactionResponse', { tableId: 'T1', currency: 'GBP', payments: [{ paymentId: 'pay-dec', amountPaid: 300, transactionResult: 'DECLINED' }] }));
    assert.deepEqual([declined.recorded, declined.amountDue], [0, 300]);
    // Another terminal's lock on an order refuses a payment naming that terminal.
    const foreign = error(await send('transactionResponse', { tableId: 'T1', tid: 'TID2', currency: 'GBP', payments: [{ paymentId: 'pay-x', amountPaid: 100 }] }));
    assert.equal(foreign.code, C.conflict);
    assert.equal(await db.prisma.payment.count({ where: { locationId: A.id } }), 2);
  });

  it('a tid on the lock or on the payment or unlock but not both is the same terminal; a lock of another dialect refuses a payment without tid and stays', async () => {
    assert.equal(result(await send('tableLockRequest', { tableId: 'T7' })).confirmed, true);
    assert.equal(result(await send('transactionResponse', { tableId: 'T7', tid: 'TID7', currency: 'GBP', payments: [{ paymentId: 'p7-1', amountPaid: 400 }] })).recorded, 1);
    assert.equal(result(await send('transactionResponse', { tableId: 'T7', currency: 'GBP', payments: [{ paymentId: 'p7-2', amountPaid: 100 }] })).recorded, 1);
    const o7 = await db.prisma.payment.findMany({ where: { locationId: A.id, orderId: 'o7' }, orderBy: { paymentIntentId: 'asc' } });
    assert.deepEqual(o7.map((p) => [p.paymentIntentId, p.lockId]), [['p7-1', 'connect-pat:T7'], ['p7-2', 'connect-pat:T7']]);
    assert.deepEqual(result(await send('tableUnlock', { tableId: 'T7', tid: 'TID7' })), { tableId: 'T7', unlocked: true });
    assert.deepEqual((await locks()).filter(([o]) => o === 'o7'), []);

    const r = await eposCall('CreateOrderLockV1', { orderId: 'o8', lockId: 'dojo-lock-8', expiry: new Date(Date.now() + 60_000).toISOString() });
    assert.ok(!isFailure(r), JSON.stringify(r));
    const refused = error(await send('transactionResponse', { tableId: 'T8', currency: 'GBP', payments: [{ paymentId: 'p8-1', amountPaid: 100 }] }));
    assert.equal(refused.code, C.conflict);
    assert.match(refused.message, /locked by another lock \(dojo-lock-8\)/);
    assert.equal(await db.prisma.payment.count({ where: { locationId: A.id, orderId: 'o8' } }), 0);
    // Nor does an unlock without tid release it.
    assert.deepEqual(result(await send('tableUnlock', { tableId: 'T8' })), { tableId: 'T8', unlocked: false });
    assert.deepEqual((await locks()).filter(([o]) => o === 'o8'), [['o8', 'dojo-lock-8']]);
  });

  it('finalPOSReceiptRequest lists the payments taken; tableUnlock releases the orders; both unlocks are harmless twice', async () => {
    assert.equal(result(await send('transactionResponse', { tableId: 'T1', tid: 'TID1', currency: 'GBP', payments: [{ paymentId: 'pay-2', amountPaid: 300 }] })).amountDue, 0);
    const lines: ConnectPat.ReceiptLine[] = result(await send('finalPOSReceiptRequest', { tableId: 'T1' })).receiptLines;
    const texts = lines.map((l) => l.value ?? '');
    assert.equal(texts.filter((t) => t.startsWith('Card payment')).length, 3, texts.join('\n'));
    assert.ok(texts.includes('PAID IN FULL'));
    assert.deepEqual(result(await send('tableUnlock', { tableId: 'T1', tid: 'TID1' })), { tableId: 'T1', unlocked: true });
    assert.deepEqual((await locks()).filter(([o]) => o === 'o1' || o === 'o2'), []);
    assert.deepEqual(result(await send('tableUnlock', { tableId: 'T1', tid: 'TID1' })), { tableId: 'T1', unlocked: false });
  });

  it('transactionResponse naming its currency only on the payment, with a time without offset, is recorded', async () => {
    const tx = { tableId: 'T2', tid: 'TID2', payments: [{ paymentId: 'p-local-time', amountPaid: 700, currency: 'GBP', time: '2025-01-01T12:00:00', authCode: 'X'.repeat(80) }] };
    assert.deepEqual(result(await send('transactionResponse', tx)), { tableId: 'T2', recorded: 1, amountDue: 0, currency: 'GBP' });
    const pay = await db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: A.id, paymentIntentId: 'p-local-time' } } });
    assert.deepEqual([pay.orderId, pay.paidAmount, pay.currency], ['o3', 700n, 'GBP']);
  });

  it('the final receipt counts an order the venue holds as due: never PAID IN FULL while it is owed', async () => {
    await fx.table(A.id, { id: 'T10', name: 'Table T10' });
    await fx.order(A.id, { id: 'o10', total: 600, tableId: 'T10' });
    await fx.order(A.id, { id: 'o11', total: 400, tableId: 'T10', payable: false });
    // The terminal may take only what is payable: the held order is not locked nor paid.
    assert.deepEqual(result(await send('tableLockRequest', { tableId: 'T10', tid: 'TID10' })), { tableId: 'T10', confirmed: true, amount: 600, currency: 'GBP' });
    assert.equal(result(await send('transactionResponse', { tableId: 'T10', tid: 'TID10', currency: 'GBP', payments: [{ paymentId: 'p10', amountPaid: 600 }] })).amountDue, 0);
    const texts = (result(await send('finalPOSReceiptRequest', { tableId: 'T10', tid: 'TID10' })).receiptLines as ConnectPat.ReceiptLine[]).map((l) => l.value ?? '');
    assert.ok(!texts.includes('PAID IN FULL'), texts.join('\n'));
    assert.ok(texts.some((t) => /^Total +£10\.00$/.test(t)), texts.join('\n'));
    assert.ok(texts.some((t) => /^Due +£4\.00$/.test(t)), texts.join('\n'));
    assert.ok(texts.some((t) => /^ {2}Pay at the till +£4\.00$/.test(t)), texts.join('\n'));
    assert.deepEqual(result(await send('tableUnlock', { tableId: 'T10', tid: 'TID10' })), { tableId: 'T10', unlocked: true });
  });

  it('a message the dialect does not serve, and a reused id, are errorMessages', async () => {
    const r = await pat.handle({ locationId: A.id, method: 'sale', rpcId: 'x1', params: {}, deadline: Date.now() + 5000, traceId: randomUUID(), fence: 1 });
    assert.equal(error(r).code, C.methodNotFound);
    await send('tableUnlock', { tableId: 'T2' }, 'reused');
    assert.equal(error(await send('tableLockRequest', { tableId: 'T2' }, 'reused')).code, C.invalidRequest);
  });

  it('concurrent payments at one table: consistent totals, each payment id once, never overpaid', async () => {
    // T5: one order of 1000. Twelve payments of 100 race (two of them the same id): ten fit.
    const msgs = Array.from({ length: 12 }, (_, i) => ({ tableId: 'T5', currency: 'GBP', payments: [{ paymentId: i === 11 ? 'c-0' : `c-${i}`, amountPaid: 100 }] }));
    const replies = await Promise.all(msgs.map((m) => send('transactionResponse', m)));
    const recorded = replies.filter((r) => 'result' in r && (r.result as { recorded: number }).recorded === 1).length;
    const refused = replies.filter((r) => 'error' in r).length;
    assert.equal(recorded, 10);
    assert.equal(recorded + refused + replies.filter((r) => 'result' in r && (r.result as { recorded: number }).recorded === 0).length, 12);
    const o5 = await order('o5');
    assert.deepEqual([o5.paidAmount, o5.payable], [1000n, false]);
    assert.equal(await db.prisma.payment.count({ where: { locationId: A.id, orderId: 'o5' } }), 10);
  });
});
