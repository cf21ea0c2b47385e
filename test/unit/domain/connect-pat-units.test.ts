/**
 * Connect pay at table without a database: the allocation rule of a table
 * payment (core/rules table-payments.ts), the codec's edge (libs/contracts
 * connect-pat.ts: every message decoded, every refusal answered, the URI) and
 * the receipt lines built from a bill template.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { ConnectPat } from '@app/contracts';
import type { Order, TableBill } from '@app/domain/core/commands';
import { allocateTablePayment, isTablePaymentPart, tableAmountDue, tablePaymentPartRef } from '@app/domain/core/rules';
import { tableReceipt } from '@app/domain/dialects/connect-pat/receipts';

const log = createLogger('t', 'silent');
const pay = (amount: number, tips = 0, cashback = 0) => ({ paymentRef: 'p1', amount: BigInt(amount), tips: BigInt(tips), cashback: BigInt(cashback) });

describe('core rule: a table payment split over the table orders', () => {
  const orders = [
    { orderId: 'old', outstanding: 1000n },
    { orderId: 'new', outstanding: 500n },
  ];

  it('pays the oldest order first and never more than is outstanding on an order', () => {
    const a = allocateTablePayment(orders, pay(1200, 150, 2000));
    assert.equal(a.kind, 'parts');
    assert.deepEqual(a.kind === 'parts' && a.parts, [
      { orderId: 'old', paymentRef: 'p1', amount: 1000n, tips: 150n, cashback: 2000n },
      { orderId: 'new', paymentRef: 'p1/2', amount: 200n, tips: 0n, cashback: 0n },
    ]);
  });

  it('a payment within the oldest order stays on it; tips only still land on the oldest', () => {
    const a = allocateTablePayment(orders, pay(400));
    assert.deepEqual(a.kind === 'parts' && a.parts.map((p) => [p.orderId, p.amount]), [['old', 400n]]);
    const t = allocateTablePayment(orders, pay(0, 300));
    assert.deepEqual(t.kind === 'parts' && t.parts.map((p) => [p.orderId, p.amount, p.tips]), [['old', 0n, 300n]]);
  });

  it('skips settled orders, pays exactly the table, refuses more than is due or a table with nothing due', () => {
    const a = allocateTablePayment([{ orderId: 'paid', outstanding: 0n }, ...orders], pay(1500));
    assert.deepEqual(a.kind === 'parts' && a.parts.map((p) => [p.orderId, p.paymentRef, p.amount]), [['old', 'p1', 1000n], ['new', 'p1/2', 500n]]);
    const over = allocateTablePayment(orders, pay(1501));
    assert.equal(over.kind, 'refuse');
    assert.match(over.kind === 'refuse' ? over.reason : '', /1501 is more than the 1500 outstanding/);
    assert.equal(allocateTablePayment([{ orderId: 'paid', outstanding: 0n }], pay(1)).kind, 'refuse');
    assert.equal(tableAmountDue(orders), 1500n);
  });

  it('part references: the payment id, then <id>/2, <id>/3; only those are parts of it', () => {
    assert.equal(tablePaymentPartRef('x', 0), 'x');
    assert.equal(tablePaymentPartRef('x', 2), 'x/3');
    assert.ok(isTablePaymentPart('x', 'x'));
    assert.ok(isTablePaymentPart('x/12', 'x'));
    assert.ok(!isTablePaymentPart('x/a', 'x'));
    assert.ok(!isTablePaymentPart('xy', 'x'));
  });
});

describe('codec: Connect PAT frames at the edge', () => {
  const decode = (m: unknown, finalReceipt = true) => ConnectPat.decodePatFrame(typeof m === 'string' ? m : JSON.stringify(m), { finalReceipt });
  const req = (method: string, params: unknown, id: unknown = 7) => ({ jsonrpc: '2.0', id, method, params });

  it('decodes every message served, echoing string and number ids', () => {
    const tx = { tableId: 'T1', currency: 'GBP', amountPaid: 1000, payments: [{ paymentId: 'p1', amountPaid: 1000, amountGratuity: 100 }] };
    const cases: [string, unknown][] = [
      ['tableListRequest', {}],
      ['tableLockRequest', { tableId: 'T1', tid: 'TID1' }],
      ['posReceiptRequest', { tableId: 'T1' }],
      ['transactionResponse', tx],
      ['finalPOSReceiptRequest', { tableId: 'T1' }],
      ['tableUnlock', { tableId: 'T1' }],
    ];
    for (const [method, params] of cases) {
      const d = decode(req(method, params, 'abc'));
      assert.equal(d.kind, 'request', `${method}: ${JSON.stringify(d)}`);
      assert.equal(d.kind === 'request' && d.method, method);
      assert.equal(d.id, 'abc');
    }
    assert.equal(decode(req('tableListRequest', {}, 42)).id, 42);
    // transactionResponse and tableUnlock may be notifications.
    const n = decode({ jsonrpc: '2.0', method: 'tableUnlock', params: { tableId: 'T1' } });
    assert.equal(n.kind, 'request');
    assert.equal(n.id, null);
  });

  it('refuses what cannot be served with an error naming the field, never throwing', () => {
    const expect = (m: unknown, code: number, re: RegExp, finalReceipt = true) => {
      const d = decode(m, finalReceipt);
      assert.equal(d.kind, 'reject', JSON.stringify(d));
      if (d.kind !== 'reject') return;
      assert.equal(d.error.code, code);
      assert.match(d.error.message, re);
    };
    const C = ConnectPat.PAT_ERROR_CODES;
    expect('{"jsonrpc":', C.parseError, /not valid JSON/);
    expect([1], C.invalidRequest, /batches/);
    expect({ jsonrpc: '2.0', id: 'a\u0000b', method: 'tableListRequest' }, C.invalidRequest, /^id /);
    expect({ jsonrpc: '2.0', id: 2 ** 60, method: 'tableListRequest' }, C.invalidRequest, /^id is out of range/);
    expect({ jsonrpc: '1.0', id: 1, method: 'tableListRequest' }, C.invalidRequest, /jsonrpc/);
    expect(req('sale', {}), C.methodNotFound, /"sale" is not served/);
    expect(req('tableLockRequest', {}), C.invalidParams, /^params\.tableId /);
    expect(req('tableLockRequest', { tableId: 'T\u0000' }), C.invalidParams, /params\.tableId/);
    expect({ jsonrpc: '2.0', method: 'tableLockRequest', params: { tableId: 'T1' } }, C.invalidRequest, /needs an id/);
    expect(req('finalPOSReceiptRequest', { tableId: 'T1' }), C.methodNotFound, /final-pos-receipt-request/, false);
    expect(req('transactionResponse', { tableId: 'T1', currency: 'GBP', amountPaid: 5, payments: [{ paymentId: 'p', amountPaid: 4 }] }), C.invalidParams, /^params\.amountPaid is 5/);
    expect(req('transactionResponse', { tableId: 'T1', currency: 'GBP', payments: [{ paymentId: 'p', amountPaid: -1 }] }), C.invalidParams, /^params\.payments\.0\.amountPaid/);
    expect(req('transactionResponse', { tableId: 'T1', currency: 'GBP', payments: [{ paymentId: 'p', amountPaid: 1, currency: 'EUR' }] }), C.invalidParams, /payments\.0\.currency/);
    // A blank payment id would trim to "" and two such payments would be taken as one.
    expect(req('transactionResponse', { tableId: 'T1', currency: 'GBP', payments: [{ paymentId: '   ', amountPaid: 1 }] }), C.invalidParams, /^params\.payments\.0\.paymentId must not be blank/);
    expect(req('transactionResponse', { tableId: 'T1', currency: 'GBP', payments: [{ paymentId: 'p', amountPaid: 1 }, { paymentId: '\t\n', amountPaid: 1 }] }), C.invalidParams, /^params\.payments\.1\.paymentId must not be blank/);
  });

  it('transactionResponse: the currency from the payments, Connect times without an offset, unread fields never refuse it', () => {
    const C = ConnectPat.PAT_ERROR_CODES;
    const params = (d: ConnectPat.PatDecoded): any => {
      assert.equal(d.kind, 'request', JSON.stringify(d));
      return d.kind === 'request' ? d.params : undefined;
    };
    // No top-level currency, the payment's own, and a time as Connect writes PAC's transactionTime (no offset).
    const p = params(decode(req('transactionResponse', { tableId: 'T1', payments: [{ paymentId: 'p1', amountPaid: 1000, currency: 'GBP', time: '2025-01-01T12:00:00' }] })));
    assert.equal(p.currency, 'GBP');
    assert.equal(p.payments[0].time, '2025-01-01T12:00:00');
    assert.equal(params(decode(req('transactionResponse', { tableId: 'T1', payments: [{ paymentId: 'p1', amountPaid: 1, time: '2025-06-01T12:00:00+01:00' }], currency: 'EUR' }))).payments[0].time, '2025-06-01T12:00:00+01:00');
    // Payments that name no currency take the one the others name.
    const two = params(decode(req('transactionResponse', { tableId: 'T1', payments: [{ paymentId: 'a', amountPaid: 1 }, { paymentId: 'b', amountPaid: 2, currency: 'EUR' }] })));
    assert.equal(two.currency, 'EUR');
    // Fields the EPOS never reads: another form is dropped, the payment kept.
    const odd = params(decode(req('transactionResponse', {
      tableId: 'T1', currency: 'GBP',
      payments: [{ paymentId: 'p1', amountPaid: 5, time: '01/01/2025 12:00', authCode: 'A'.repeat(100), cardSchemeName: 7, paymentMethod: { kind: 'ICC' } }],
    })));
    assert.deepEqual([odd.payments[0].paymentId, odd.payments[0].amountPaid], ['p1', 5]);
    for (const f of ['time', 'authCode', 'cardSchemeName', 'paymentMethod']) assert.equal(odd.payments[0][f], undefined, f);

    const refused = (m: unknown, re: RegExp) => {
      const d = decode(m);
      assert.ok(d.kind === 'reject' && d.error.code === C.invalidParams && re.test(d.error.message), JSON.stringify(d));
    };
    refused(req('transactionResponse', { tableId: 'T1', payments: [{ paymentId: 'p1', amountPaid: 1 }] }), /^params\.currency is required, here or on the payments/);
    refused(req('transactionResponse', { tableId: 'T1', payments: [{ paymentId: 'a', amountPaid: 1, currency: 'GBP' }, { paymentId: 'b', amountPaid: 1, currency: 'EUR' }] }), /^params\.payments are in more than one currency \(GBP, EUR\)/);
    // What is read stays strict: the result decides whether money was taken.
    refused(req('transactionResponse', { tableId: 'T1', currency: 'GBP', payments: [{ paymentId: 'p1', amountPaid: 1, transactionResult: 'MAYBE' }] }), /^params\.payments\.0\.transactionResult/);
    // And what the EPOS sends still validates strictly: the answer names its currency.
    assert.match(ConnectPat.patResultProblem('transactionResponse', { tableId: 'T1', recorded: 1, amountDue: 0 }) ?? '', /^transactionResponse\.currency /);
  });

  it("Connect's errorMessage is a notice, never answered; refusals encode as error or errorMessage notification", () => {
    const d = decode({ jsonrpc: '2.0', method: 'errorMessage', params: { code: 1, message: 'Connection Discontinued' } });
    assert.deepEqual(d, { kind: 'notice', id: null, error: { code: 1, message: 'Connection Discontinued' } });
    assert.deepEqual(JSON.parse(ConnectPat.encodePatError(9, { code: -1, message: 'm' })), { jsonrpc: '2.0', id: 9, error: { code: -1, message: 'm' } });
    assert.deepEqual(JSON.parse(ConnectPat.encodePatError(null, { code: -1, message: 'm' }, 'tableUnlock')), {
      jsonrpc: '2.0',
      method: 'errorMessage',
      params: { code: -1, message: 'm', method: 'tableUnlock' },
    });
    assert.equal(ConnectPat.peekPatId('{"jsonrpc":"2.0","id":"x-1","method":"tableLockRequest","params":{"tableId":"' ), 'x-1');
  });

  it('builds the exact /pat URI, with the bare final-receipt flag only when asked', () => {
    const parts = { token: 'tok/en+1', softwareHouseId: 'SH1', installerId: 'INST 2', finalPosReceiptRequest: true };
    assert.equal(
      ConnectPat.connectPatUrl('wss://h.connect.paymentsense.cloud/pat', parts),
      'wss://h.connect.paymentsense.cloud/pat?token=tok%2Fen%2B1&api-version=v1&software-house-id=SH1&installer-id=INST%202&final-pos-receipt-request',
    );
    assert.doesNotMatch(ConnectPat.connectPatUrl('wss://h/pat', { ...parts, finalPosReceiptRequest: false }), /final-pos-receipt-request/);
  });

  it('result schemas catch a corrupted reply field, naming the message and the field', () => {
    assert.equal(ConnectPat.patResultProblem('tableLockRequest', { tableId: 'T1', confirmed: true, amount: 100, currency: 'GBP' }), undefined);
    assert.match(ConnectPat.patResultProblem('tableLockRequest', { tableId: 'T1', confirmed: true, amount: '100', currency: 'GBP' }) ?? '', /^tableLockResponse\.amount /);
    assert.match(ConnectPat.patResultProblem('tableListRequest', { tables: ['T1'] }) ?? '', /^tableListResponse\.currency /);
    assert.match(ConnectPat.patResultProblem('posReceiptRequest', { tableId: 'T1', receiptLines: [{ type: 'TEXT' }] }) ?? '', /^posReceiptResponse\.receiptLines\.0\.value /);
  });
});

describe('receipts: a table bill in Connect receipt lines', () => {
  const at = new Date('2026-01-01T12:00:00Z');
  const order = (id: string, total: bigint, paid: bigint, items: [string, number, bigint][]): Order =>
    ({
      id,
      currency: 'GBP',
      totalAmount: total,
      paidAmount: paid,
      tipsAmount: 0n,
      payable: paid < total,
      status: 'Open',
      serviceChargeAmount: null,
      items: items.map(([name, quantity, amountPerItem], position) => ({ name, quantity, amountPerItem, position })),
      payments: paid > 0n ? [{ paymentIntentId: `${id}-p`, paidAmount: paid, tipsAmount: 120n, state: 'Recorded', createdAt: at }] : [],
    }) as unknown as Order;
  const bill: TableBill = {
    tableId: 'T1',
    orders: [order('o1', 1500n, 1500n, [['Burger', 1, 1200n], ['Chips', 1, 500n]]), order('o2', 800n, 0n, [['Beer', 2, 400n]])],
    header: [
      { lineType: 'Logo', logo: { svgImage: '<svg/>' } },
      { lineType: 'MerchantName', merchantName: { name: 'The Anchor' } },
      { lineType: 'Text', text: { value: 'Welcome', size: 'Header1', bold: true } },
      { lineType: 'Image', image: { svgImage: '<svg/>' } },
    ],
    footer: [{ lineType: 'HorizontalLine', horizontalLine: { line: 'Double' } }, { lineType: 'Text', text: { value: 'Thanks', size: 'Body' } }],
    venueName: null,
    hasTemplate: true,
  };

  it('fits the receipt-line schema, with formats, separators, logo, barcode and amounts that add up', () => {
    const lines = tableReceipt(bill, 'final', log);
    assert.equal(ConnectPat.patResultProblem('finalPOSReceiptRequest', { tableId: 'T1', receiptLines: lines }), undefined);
    const texts = lines.filter((l) => l.type === 'TEXT').map((l) => l.value!);
    assert.deepEqual(lines[0], { type: 'IMAGE_LOGO', value: '<svg/>' });
    assert.deepEqual(lines[1], { type: 'TEXT', format: ['BOLD', 'DOUBLE_HEIGHT'], value: 'The Anchor' });
    assert.deepEqual(lines[2], { type: 'TEXT', format: ['BOLD', 'DOUBLE_HEIGHT', 'DOUBLE_WIDTH'], value: 'Welcome' });
    assert.ok(texts.some((t) => /^Discounts +-£2\.00$/.test(t)), texts.join('\n'));
    assert.ok(texts.some((t) => /^2 x Beer +£8\.00$/.test(t)));
    assert.ok(texts.some((t) => /^Total +£23\.00$/.test(t)));
    assert.ok(texts.some((t) => /^Card payment +£15\.00$/.test(t)));
    assert.ok(texts.some((t) => /^ {2}Gratuity +£1\.20$/.test(t)));
    assert.ok(texts.some((t) => /^Due +£8\.00$/.test(t)));
    assert.ok(texts.every((t) => t.length <= 32 || !t.includes('  ')));
    assert.ok(lines.some((l) => l.type === 'LINE_SEPARATOR_DOUBLE'));
    assert.deepEqual(lines.slice(-2), [{ type: 'BARCODE_CODE128', value: 'T1' }, { type: 'TICKET_FEED' }]);
    const pre = tableReceipt(bill, 'bill', log);
    assert.ok(!pre.some((l) => l.value?.startsWith('Card payment')), 'payments are listed on the final receipt only');
  });

  it('an order the venue holds is still due: never PAID IN FULL while it is owed', () => {
    const held = { ...order('o2', 800n, 0n, [['Beer', 2, 400n]]), payable: false, heldByVenue: true } as Order;
    const texts = tableReceipt({ ...bill, orders: [order('o1', 1500n, 1500n, [['Burger', 1, 1500n]]), held] }, 'final', log).map((l) => l.value ?? '');
    assert.ok(!texts.includes('PAID IN FULL'), texts.join('\n'));
    assert.ok(texts.some((t) => /^Due +£8\.00$/.test(t)), texts.join('\n'));
    assert.ok(texts.some((t) => /^ {2}Pay at the till +£8\.00$/.test(t)), texts.join('\n'));
    // Paid in full when nothing is owed, held or not; an order paid past a lowered total takes nothing off the others.
    const paid = { ...order('o3', 500n, 600n, [['Tea', 1, 500n]]), payable: false } as Order;
    const done = tableReceipt({ ...bill, orders: [order('o1', 1500n, 1500n, [['Burger', 1, 1500n]]), paid] }, 'final', log).map((l) => l.value ?? '');
    assert.ok(done.includes('PAID IN FULL'), done.join('\n'));
    assert.ok(!done.some((t) => t.includes('till')));
    const mixed = tableReceipt({ ...bill, orders: [paid, order('o4', 300n, 0n, [['Cake', 1, 300n]])] }, 'bill', log).map((l) => l.value ?? '');
    assert.ok(mixed.some((t) => /^Due +£3\.00$/.test(t)), mixed.join('\n'));
  });

  it('without a template: the venue name heads it', () => {
    const lines = tableReceipt({ ...bill, hasTemplate: false, header: [], footer: [], venueName: 'Demo Arms' }, 'bill', log);
    assert.deepEqual(lines[0], { type: 'TEXT', format: ['BOLD', 'DOUBLE_HEIGHT'], value: 'Demo Arms' });
  });
});
