import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import type { LocationChangedMessage } from '@app/contracts';
import { Channels, TABLES_ERROR_CODES } from '@app/contracts';
import { tableSessionId } from '@app/domain';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { AppProcess } from '../../support/app-processes';
import { killApps, spawnApps } from '../../support/app-processes';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';

const TABLES_KEY = '7d4773f2-367f-406c-881a-b4cb854971f3';
const ENFORCED_KEY = '0e9a1c51-5b7e-4a6f-9a47-1f0e4c2a7d11';
/** A secret in the override URL's query: it must never reach a log line. */
const URL_TOKEN = 'url-token-NEVER-LOGGED-42';
const cardMachine = (terminalId: string, waiterId?: number) => ({
  requestorType: 'REQUESTOR_TYPE_CARD_MACHINE',
  cardMachineRequestorInfo: { terminalId, ...(waiterId !== undefined ? { waiterId } : {}) },
});

/**
 * The Tables API end to end: a fake Dojo Tables endpoint, the gateway and the
 * worker as processes, the queue and Postgres. Every method and error code,
 * the handshake, concurrency with ids echoed, a lock shared with EPOS Data on
 * one order across a protocol switch, and no secret in any log line.
 */
describe('Tables API dialect through the gateway, queue, worker and Postgres', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let redis: Redis;
  let apps: AppProcess[] = [];
  let loc: LocationFixture;
  let enforced: LocationFixture;
  let prefix = '';
  let conn: FakeConnection;
  let n = 0;
  const call = async (method: string, params: Record<string, unknown> = {}, id: string | number = `r${++n}`, c = conn) =>
    fake.request(c, { jsonrpc: '2.0', id, method, params: { requestorInfo: cardMachine('TID-1'), ...params } }, id, 15_000);
  const result = async (method: string, params: Record<string, unknown> = {}) => (await call(method, params)).result as Record<string, any>;
  const sid = (orderId: string, l = loc) => tableSessionId(l.id, orderId);

  before(async () => {
    db = await createTestDatabase('tablesapi');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    redis = new Redis(testRedisUrl());
    const base = fake.url.replace(/\/epos$/, '');
    const sh = await fx.softwareHouse({ dojoId: 'sh-tables' });
    loc = await fx.location({
      softwareHouseId: sh.id, apiKey: TABLES_KEY, protocol: 'dojo-tables', registrationState: 'not_required',
      wsUrl: `${base}/ws/v1/tables/epos?token=${URL_TOKEN}`,
      protocolSettings: { accountName: 'abcdef0000000', environment: 'production', enforceWaiterId: false },
    });
    enforced = await fx.location({
      softwareHouseId: sh.id, apiKey: ENFORCED_KEY, protocol: 'dojo-tables', resellerId: 'res-9',
      wsUrl: `${base}/ws/v1/tables/epos`, protocolSettings: { accountName: 'waiters', environment: 'production', enforceWaiterId: true },
    });
    await fx.table(loc.id, { id: 'T1', name: 'Table 1', maxCovers: 4 });
    await fx.table(loc.id, { id: 'T2', name: 'Table 2', maxCovers: 2 });
    await fx.table(loc.id, { id: 'T3', name: 'Patio', maxCovers: 6 });
    await fx.table(loc.id, { id: 'T4', name: 'Closed corner', maxCovers: 0 });
    await db.prisma.party.create({ data: { locationId: loc.id, id: 'P1', covers: 3, tableIds: ['T1'], status: 'Seated', startTime: new Date() } });
    await fx.order(loc.id, {
      id: 'A', total: 4300, tableId: 'T1', waiterId: '7', serviceCharge: 300, partyId: 'P1',
      discounts: [{ name: 'Voucher', amountTotal: { value: 500, currencyCode: 'GBP' } }],
    });
    await fx.order(loc.id, { id: 'B', total: 2000, tableId: 'T2', payable: false });
    await fx.order(loc.id, { id: 'TAB', total: 1500 });
    await fx.order(loc.id, { id: 'DONE', total: 1000, tableId: 'T1', status: 'Finalized' });
    await db.prisma.billTemplate.create({
      data: {
        locationId: loc.id,
        header: [{ lineType: 'MerchantName', merchantName: { name: 'The Old Tables Inn' } }, { lineType: 'Text', text: { value: 'Welcome', size: 'Header1', align: 'Center', bold: true } }],
        footer: [{ lineType: 'HorizontalLine', horizontalLine: { line: 'Double' } }, { lineType: 'TaxNumber', taxNumber: { name: 'VAT', number: 'GB123' } }],
      },
    });
    await fx.table(enforced.id, { id: 'W1', name: 'W1' });
    await fx.order(enforced.id, { id: 'W-7', total: 1000, tableId: 'W1', waiterId: '7' });
    await fx.order(enforced.id, { id: 'W-8', total: 1000, tableId: 'W1', waiterId: '8' });

    prefix = uniquePrefix('tables');
    const env = appEnv(db, { QUEUE_PREFIX: prefix, LOG_LEVEL: 'trace', DOJO_WS_URL: fake.url, TABLES_LOCK_TTL_MS: '120000' });
    apps = await spawnApps(['gateway', 'worker'], () => env);
    await waitFor(() => fake.open().length === 2, 'both Tables links open', 30_000);
    conn = fake.open().find((c) => c.path.includes('token='))!;
  });

  after(async () => {
    await killApps(apps);
    await fake.close();
    redis.disconnect();
    await db.drop();
  });

  it('dials the Tables endpoint with Basic base64("<accountName>:<apiKey>"), software-house-id and reseller-id only when set', () => {
    assert.equal(conn.path, `/ws/v1/tables/epos?token=${URL_TOKEN}`);
    assert.equal(conn.headers.authorization, `Basic ${Buffer.from(`abcdef0000000:${TABLES_KEY}`).toString('base64')}`);
    assert.equal(conn.headers['software-house-id'], 'sh-tables');
    assert.equal(conn.headers['reseller-id'], undefined);
    const other = fake.open().find((c) => c !== conn)!;
    assert.equal(other.headers.authorization, `Basic ${Buffer.from(`waiters:${ENFORCED_KEY}`).toString('base64')}`);
    assert.equal(other.headers['reseller-id'], 'res-9');
  });

  it('lists sessions with ANDed filters, stable UUID ids, table names, finishedAt only once finished', async () => {
    const all = (await result('ListSessions')).sessions as any[];
    assert.deepEqual(all.map((s) => s.name).sort(), ['Order A', 'Order B', 'Order DONE', 'Order TAB']);
    const a = all.find((s) => s.name === 'Order A');
    assert.deepEqual(a, { id: sid('A'), name: 'Order A', tableName: 'Table 1', waiter: { id: 7 }, numberOfCovers: 3, createdAt: a.createdAt, isPayable: true });
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(all.find((s) => s.name === 'Order DONE').finishedAt, 'a finished session has finishedAt');
    assert.equal(all.find((s) => s.name === 'Order TAB').tableName, undefined, 'a tab has no table');
    const payable = (await result('ListSessions', { isFinished: false, hasTable: true, isPayable: true })).sessions as any[];
    assert.deepEqual(payable.map((s) => s.id), [sid('A')]);
    const byTable = (await result('ListSessions', { tableNames: ['Table 1', 'Patio'], isFinished: false })).sessions as any[];
    assert.deepEqual(byTable.map((s) => s.id), [sid('A')]);
    assert.deepEqual((await result('ListSessions', { tableNames: ['Nowhere'] })).sessions, []);
    assert.deepEqual((await result('ListSessions', { hasTable: false })).sessions.map((s: any) => s.id), [sid('TAB')]);
    const one = await result('GetSession', { sessionId: sid('A') });
    assert.deepEqual(one.session, a);
    assert.deepEqual(await result('GetSession', { sessionId: '00000000-0000-3000-8000-000000000000' }), {
      errorCode: 'SESSION_NO_SUCH_SESSION', errorReason: 'session "00000000-0000-3000-8000-000000000000" was not found at this location',
    });
  });

  it('answers bills with items, modifiers, negative discount lines, tax, service charge, paid and currency; full bill from the template', async () => {
    const bill = (await result('GetBillItems', { sessionId: sid('A') })).billItems;
    assert.equal(bill.sessionId, sid('A'));
    assert.equal(bill.totalAmount, 4300);
    assert.equal(bill.serviceCharge, 300);
    assert.equal(bill.taxAmount, Math.floor(4300 / 6));
    assert.equal(bill.paidAmount, 0);
    assert.equal(bill.currency, 'GBP');
    assert.deepEqual(bill.items[0], {
      id: '1', name: 'Burger', category: [], quantity: 2, amountPerItem: 2150, lastOrderedAt: bill.items[0].lastOrderedAt,
      modifiers: [{ id: 'M1', name: 'Cheese', amountPerModifier: 0, quantity: 1 }],
    });
    assert.deepEqual({ ...bill.items[1], lastOrderedAt: 'x' }, { id: 'discount-1', name: 'Voucher', category: ['Discount'], quantity: 1, amountPerItem: -500, lastOrderedAt: 'x' });
    const full = (await result('GetFullBill', { sessionId: sid('A') })).fullBill;
    assert.deepEqual(full.header.receiptLines, [
      { receiptLineType: 'RECEIPT_LINE_TYPE_MERCHANT_NAME', receiptMerchantName: { merchantName: 'The Old Tables Inn' } },
      { receiptLineType: 'RECEIPT_LINE_TYPE_TEXT', receiptText: { value: 'Welcome', size: 'SIZE_HEADER_1', align: 'ALIGN_CENTER', emphasisBold: true } },
    ]);
    assert.deepEqual(full.footer.receiptLines, [
      { receiptLineType: 'RECEIPT_LINE_TYPE_HORIZONTAL_LINE', receiptHorizontalLine: { type: 'HORIZONTAL_LINE_DOUBLE' } },
      { receiptLineType: 'RECEIPT_LINE_TYPE_VAT_NUMBER', receiptVATNumber: { vatNumber: 'GB123' } },
    ]);
    assert.deepEqual(full.billItems, bill);
    assert.equal((await result('ListBillItems')).billItems.length, 4, 'every session (the canceled one is added below)');
    const some = (await result('ListBillItems', { sessionIds: [sid('B'), sid('TAB'), '11111111-1111-3111-8111-111111111111'] })).billItems as any[];
    assert.deepEqual(some.map((b) => b.sessionId), [sid('B'), sid('TAB')]);
    assert.equal((await result('GetFullBill', { sessionId: sid('ZZZ') })).errorCode, 'SESSION_NO_SUCH_SESSION');
    await fx.order(loc.id, { id: 'VOID', total: 800, status: 'Canceled' });
    assert.equal((await result('GetBillItems', { sessionId: sid('VOID') })).errorCode, 'BILL_NO_SUCH_BILL', 'a canceled order has no bill');
  });

  it('reports tables with maxCovers and a status derived from their open orders', async () => {
    assert.deepEqual((await result('GetTable', { name: 'Table 1' })).table, { name: 'Table 1', maxCovers: 4, status: 'TABLE_STATUS_OCCUPIED' });
    assert.deepEqual((await result('GetTable', { name: 'Patio' })).table, { name: 'Patio', maxCovers: 6, status: 'TABLE_STATUS_AVAILABLE' });
    assert.equal((await result('GetTable', { name: 'Nope' })).errorCode, 'TABLE_NO_SUCH_TABLE');
    const tables = (await result('ListTables')).tables as any[];
    assert.deepEqual(tables.map((t) => [t.name, t.status]), [
      ['Table 1', 'TABLE_STATUS_OCCUPIED'], ['Table 2', 'TABLE_STATUS_OCCUPIED'], ['Patio', 'TABLE_STATUS_AVAILABLE'], ['Closed corner', 'TABLE_STATUS_NOT_IN_USE'],
    ]);
    const free = (await result('ListTables', { statuses: ['TABLE_STATUS_AVAILABLE', 'TABLE_STATUS_NOT_IN_USE'] })).tables as any[];
    assert.deepEqual(free.map((t) => t.name), ['Patio', 'Closed corner']);
  });

  it('pays at table: lock (one terminal at a time), split payments with tips, unlock after each, never overpays', async () => {
    const s = sid('A');
    const lock = await result('LockSession', { sessionId: s });
    assert.equal(lock.billItems.totalAmount, 4300);
    const other = await call('LockSession', { sessionId: s, requestorInfo: cardMachine('TID-2') });
    assert.equal(other.result.errorCode, 'SESSION_ALREADY_LOCKED');
    assert.equal((await result('UnlockSession', { sessionId: s, requestorInfo: cardMachine('TID-2') })).errorCode, 'SESSION_UNABLE_TO_UNLOCK');
    assert.equal(other.error, undefined, 'errors are never a JSON-RPC error member');
    const payment = (id: string, base: number, extra: Record<string, unknown> = {}) => ({
      payment: {
        id, sessionId: s, waiterId: 7, baseAmount: base, currency: 'GBP', paymentSuccessful: true, attemptedAt: '2026-11-30T12:00:00Z',
        methodDetails: { method: 'PAYMENT_METHOD_CARD_PRESENT', cardPresentPaymentInfo: { authCode: 'A1', entryMode: 'ENTRY_MODE_CONTACTLESS' } },
        ...extra,
      },
    });
    const p1 = 'aaaaaaaa-0000-4000-8000-000000000001';
    assert.deepEqual(await result('RecordPayment', payment(`${p1} `, 2000, { tipsAmount: 300, cashbackAmount: 1000 })), {});
    assert.equal((await result('RecordPayment', payment(p1, 2000, { tipsAmount: 300, cashbackAmount: 1000 }))).errorCode, 'PAYMENT_ALREADY_RECORDED');
    // The id again with other amounts is not this payment: Dojo must not read it as on the bill.
    assert.equal((await result('RecordPayment', payment(p1, 1500, { tipsAmount: 300 }))).errorCode, 'PAYMENT_NOT_RECORDED', 'another amount');
    assert.equal((await result('RecordPayment', payment(p1, 2000, { tipsAmount: 200 }))).errorCode, 'PAYMENT_NOT_RECORDED', 'another tip');
    // Dojo's rule: the same amounts and attemptedAt. The same instant written otherwise is the same attempt.
    const sameAmounts = { tipsAmount: 300, cashbackAmount: 1000 };
    assert.equal((await result('RecordPayment', payment(p1, 2000, { ...sameAmounts, attemptedAt: '2026-11-30T12:05:00Z' }))).errorCode, 'PAYMENT_NOT_RECORDED', 'another attemptedAt');
    assert.equal((await result('RecordPayment', payment(p1, 2000, { ...sameAmounts, attemptedAt: '2026-11-30T13:00:00.000+01:00' }))).errorCode, 'PAYMENT_ALREADY_RECORDED', 'the same instant');
    assert.deepEqual(await result('RecordPayment', payment('aaaaaaaa-0000-4000-8000-00000000000f', 2300, { paymentSuccessful: false })), {}, 'a failed attempt is acknowledged');
    assert.equal((await result('RecordPayment', payment('aaaaaaaa-0000-4000-8000-000000000002', 9999))).errorCode, 'PAYMENT_NOT_RECORDED', 'never overpays');
    assert.deepEqual(await result('UnlockSession', { sessionId: s }), {});
    assert.equal((await result('UnlockSession', { sessionId: s })).errorCode, 'SESSION_NOT_LOCKED');
    assert.equal((await result('RecordPayment', payment('aaaaaaaa-0000-4000-8000-000000000003', 2300))).errorCode, 'SESSION_NOT_LOCKED');

    const row = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'A' } } });
    assert.equal(row.paidAmount, 2000n, 'cashback and the failed attempt count for nothing');
    assert.equal(row.tipsAmount, 300n);
    const pay = await db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: p1 } } });
    assert.equal(pay.cashbackAmount, 1000n, 'the trimmed id, with its cashback recorded');
    assert.deepEqual([pay.paidAmount, pay.tipsAmount], [2000n, 300n], 'the refused reuses of its id changed nothing');
    assert.equal(pay.attemptedAt?.toISOString(), '2026-11-30T12:00:00.000Z', 'kept from the first attempt');

    await result('LockSession', { sessionId: s });
    assert.deepEqual(await result('RecordPayment', payment('aaaaaaaa-0000-4000-8000-000000000004', 2300, { gratuityAmount: 100 })), {});
    assert.deepEqual(await result('UnlockSession', { sessionId: s }), {});
    const after = (await result('GetSession', { sessionId: s })).session;
    assert.equal(after.isPayable, false, 'fully paid');
    assert.equal((await result('GetBillItems', { sessionId: s })).billItems.paidAmount, 4300);
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id, kind: 'payment.recorded' } });
    assert.equal(feed.length, 2, 'the venue feed shows each payment, as for EPOS Data');
    assert.equal((await result('GetTable', { name: 'Table 1' })).table.status, 'TABLE_STATUS_PENDING_AVAILABLE');
  });

  it('a terminal named on the lock but not on the payment or unlock, or the other way round, pays and unlocks under its lock; another terminal does not', async () => {
    const payment = (sessionId: string, id: string, base: number, terminalId?: string) => ({
      requestorInfo: undefined,
      payment: {
        id, sessionId, baseAmount: base, currency: 'GBP', paymentSuccessful: true, attemptedAt: '2026-11-30T12:00:00Z',
        methodDetails: { method: 'PAYMENT_METHOD_CARD_PRESENT', cardPresentPaymentInfo: { entryMode: 'ENTRY_MODE_CONTACTLESS', ...(terminalId ? { terminalId } : {}) } },
      },
    });
    await fx.table(loc.id, { id: 'T5', name: 'Terrace', maxCovers: 2 });
    await fx.order(loc.id, { id: 'U', total: 1000, tableId: 'T5' });
    await fx.order(loc.id, { id: 'V', total: 1000, tableId: 'T5' });
    // Dojo's own example requestor carries `terminalId: []`: the lock names no terminal.
    const u = sid('U');
    assert.equal((await result('LockSession', { sessionId: u, requestorInfo: { requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId: [] } } })).billItems.totalAmount, 1000);
    assert.equal((await result('LockSession', { sessionId: u, requestorInfo: cardMachine('TID-2') })).errorCode, 'SESSION_ALREADY_LOCKED');
    // The payment names its terminal in the card details only: the card was taken under that lock.
    assert.deepEqual(await result('RecordPayment', payment(u, 'bbbbbbbb-0000-4000-8000-000000000001', 400, 'TID-3')), {});

    // A lock that names TID-1: a payment naming TID-2 in its card details is another terminal's; one naming none is not.
    const v = sid('V');
    await result('LockSession', { sessionId: v });
    assert.equal((await result('RecordPayment', payment(v, 'bbbbbbbb-0000-4000-8000-000000000002', 400, 'TID-2'))).errorCode, 'SESSION_NOT_LOCKED');
    assert.deepEqual(await result('RecordPayment', payment(v, 'bbbbbbbb-0000-4000-8000-000000000003', 300)), {});
    assert.deepEqual(await result('RecordPayment', payment(v, 'bbbbbbbb-0000-4000-8000-000000000004', 200, 'TID-1')), {});

    const paid = await db.prisma.payment.findMany({ where: { locationId: loc.id, orderId: { in: ['U', 'V'] } }, orderBy: { paymentIntentId: 'asc' } });
    assert.deepEqual(paid.map((p) => [p.orderId, p.paidAmount, p.lockId]), [
      ['U', 400n, 'dojo-tables'], ['V', 300n, 'dojo-tables:TID-1'], ['V', 200n, 'dojo-tables:TID-1'],
    ]);

    // Unlocks follow the same rule: a named terminal releases the unnamed lock, an unnamed one the named lock,
    // another named terminal does not.
    assert.deepEqual(await result('UnlockSession', { sessionId: u, requestorInfo: cardMachine('TID-2') }), {});
    assert.equal((await result('UnlockSession', { sessionId: v, requestorInfo: cardMachine('TID-2') })).errorCode, 'SESSION_UNABLE_TO_UNLOCK');
    assert.deepEqual(await result('UnlockSession', { sessionId: v, requestorInfo: undefined }), {});
    assert.equal(await db.prisma.orderLock.count({ where: { locationId: loc.id, orderId: { in: ['U', 'V'] } } }), 0);
  });

  it('answers a frame it cannot parse with ERROR_PARSE_ERROR and keeps the socket; logs ErrorNotification and never answers it', async () => {
    const bad = await fake.sendRaw(conn, '{"jsonrpc":"2.0","id":');
    assert.deepEqual(bad, { jsonrpc: '2.0', id: null, result: { errorCode: 'ERROR_PARSE_ERROR', errorReason: 'the message is not valid JSON' } });
    const unknown = await call('Dance', {}, 'u1');
    assert.equal(unknown.result.errorCode, 'ERROR_PARSE_ERROR');
    const before = conn.received.length;
    conn.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'ErrorNotification', params: { errorCode: 'ERROR_PARSE_ERROR', errorReason: 'bad reply', id: 'r1' } }));
    const next = await call('GetTable', { name: 'Patio' }, 'after-note');
    assert.equal(next.result.table.name, 'Patio', 'the socket is still served');
    assert.equal(conn.received.length, before + 1, 'only the request got a reply');
    assert.equal(conn.closedAt, undefined);
  });

  it('serves requests concurrently and echoes string and number ids exactly', async () => {
    const ids: (string | number)[] = Array.from({ length: 30 }, (_, i) => (i % 2 ? i : `c-${i}`));
    const replies = await Promise.all(ids.map((id, i) => call(i % 3 ? 'GetTable' : 'ListSessions', i % 3 ? { name: 'Patio' } : { hasTable: false }, id)));
    replies.forEach((r, i) => {
      assert.equal(r.id, ids[i]);
      assert.equal(typeof r.id, typeof ids[i]);
      assert.ok(i % 3 ? r.result.table : r.result.sessions, JSON.stringify(r));
    });
  });

  it('enforces waiter ids per location: missing or wrong waiter refused, lists filtered', async () => {
    const w = fake.open().find((c) => c !== conn)!;
    const ask = (method: string, params: Record<string, unknown>) => call(method, params, `w${++n}`, w);
    const s7 = tableSessionId(enforced.id, 'W-7');
    assert.equal((await ask('GetSession', { sessionId: s7 })).result.errorCode, 'WAITER_INCORRECT_WAITER_ID');
    assert.equal((await ask('GetSession', { sessionId: s7, requestorInfo: cardMachine('T', 8) })).result.errorCode, 'WAITER_INCORRECT_WAITER_ID');
    assert.equal((await ask('GetSession', { sessionId: s7, requestorInfo: cardMachine('T', 7) })).result.session.id, s7);
    assert.equal((await ask('LockSession', { sessionId: s7, requestorInfo: cardMachine('T', 8) })).result.errorCode, 'WAITER_INCORRECT_WAITER_ID');
    assert.deepEqual((await ask('ListSessions', {})).result.sessions, []);
    assert.deepEqual((await ask('ListSessions', { requestorInfo: cardMachine('T', 8) })).result.sessions.map((s: any) => s.id), [tableSessionId(enforced.id, 'W-8')]);
  });

  it('shares the order lock with EPOS Data across a switch dojo-tables -> epos-data -> dojo-tables, keeping the data', async () => {
    await fx.order(loc.id, { id: 'SHARED', total: 1000, tableId: 'T3' });
    const s = sid('SHARED');
    // The same request id in both dialects: answers are stored per (location, dialect, id), so neither replays the other's.
    assert.equal((await call('LockSession', { sessionId: s }, 'same-id-1')).result.billItems.totalAmount, 1000);
    const publish = async (data: Record<string, unknown>) => {
      const row = await db.prisma.location.update({ where: { id: loc.id }, data: { ...data, configVersion: { increment: 1 } } });
      const msg: LocationChangedMessage = { locationId: loc.id, configVersion: row.configVersion };
      await redis.publish(Channels.locationChanged(prefix), JSON.stringify(msg));
    };
    const eposKey = 'sk_sandbox_switch0001';
    await publish({ protocol: 'epos-data', protocolSettings: {}, apiKeyCiphertext: fx.encryptApiKey(loc.id, eposKey), wsUrl: fake.url });
    const epos = await waitFor(() => fake.open(eposKey)[0], 're-dialled as epos-data', 20_000);
    assert.equal(epos.headers.authorization, `Basic ${eposKey}`);
    const lockReply = await fake.request(epos, {
      jsonrpc: '2.0', id: 'same-id-1', method: 'CreateOrderLockV1',
      params: { orderId: 'SHARED', lockId: 'dojo-lock-1', expiry: new Date(Date.now() + 60_000).toISOString(), headers: {} },
    }, 'same-id-1', 15_000);
    assert.equal(lockReply.error?.errorType, 'Conflict', `the Tables lock blocks EPOS Data: ${JSON.stringify(lockReply)}`);
    const get = await fake.request(epos, { jsonrpc: '2.0', id: 'e2', method: 'GetOrderByIdV1', params: { orderId: 'A', headers: {} } }, 'e2', 15_000);
    assert.equal(get.result.paidAmount.value, 4300, 'the venue data stays');

    await publish({ protocol: 'dojo-tables', protocolSettings: { accountName: 'abcdef0000000', environment: 'production', enforceWaiterId: false },
      apiKeyCiphertext: fx.encryptApiKey(loc.id, TABLES_KEY), wsUrl: conn.path.startsWith('/') ? `${fake.url.replace(/\/epos$/, '')}${conn.path}` : conn.path });
    conn = await waitFor(() => fake.open(Buffer.from(`abcdef0000000:${TABLES_KEY}`).toString('base64'))[0], 'back on the Tables API', 20_000);
    // The lock is the same row: the terminal that took it releases it.
    assert.deepEqual(await result('UnlockSession', { sessionId: s }), {});
  });

  it('covers every Tables error code, and writes no secret in any log line', async () => {
    const seen = new Set<string>();
    for (const line of conn.received) {
      const code = (line as any)?.result?.errorCode;
      if (code) seen.add(code);
    }
    for (const c of fake.connections.flatMap((x) => x.received)) {
      const code = (c as any)?.result?.errorCode;
      if (code) seen.add(code);
    }
    // ERROR_INTERNAL_POS_ERROR (deadline, worker failure) is the gateway's and the worker host's: test/unit/gateway/protocols.test.ts.
    const untested = TABLES_ERROR_CODES.filter((c) => !seen.has(c) && c !== 'ERROR_INTERNAL_POS_ERROR');
    assert.deepEqual(untested, []);
    const logs = apps.map((a) => a.out.join('')).join('');
    assert.ok(logs.includes('"url":"ws://127.0.0.1:'), 'the link logs the URL it dialled');
    assert.ok(logs.includes('token=***'), 'with its token redacted');
    for (const secret of [TABLES_KEY, ENFORCED_KEY, URL_TOKEN, Buffer.from(`abcdef0000000:${TABLES_KEY}`).toString('base64')]) {
      assert.ok(!logs.includes(secret), `no log line shows ${secret.slice(0, 6)}…`);
    }
    assert.ok(/ErrorNotification/.test(logs) && /"refersToId":"r1"/.test(logs), 'the ErrorNotification is logged with the id it refers to');
  });
});
