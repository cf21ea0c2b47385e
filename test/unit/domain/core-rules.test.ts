/**
 * The pure rules of orders, locks and payments (libs/domain/src/core/rules):
 * no database. Every path and the SQL fragments that express a rule use them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  cardMachineRoom,
  checkOrderDraft,
  CLOSED_ORDER_STATUSES,
  countedAmounts,
  isFullRefund,
  ORDER_STATUSES,
  placedPaymentRefusal,
  decidePayment,
  dojoOrderLockKey,
  isClosedStatus,
  isHeldByAnother,
  isTerminalsLock,
  heldLockRef,
  terminalLockRef,
  isLockLive,
  isPayable,
  isSamePayment,
  isValidMinorAmount,
  liveLock,
  MAX_ORDER_ITEMS,
  orderCurrencyChangeRefusal,
  orderDeletionRefusal,
  orderTotalRefusal,
  orderCloseRefusal,
  outstandingAmount,
  paidTotals,
  partyContentProblems,
  partyFieldsKeptByVenueReplace,
  RESERVATION_FIELDS_KEPT_BY_VENUE_REPLACE,
  paymentIntentLockKey,
  paymentLockOf,
  requestIdempotencyKey,
} from '@app/domain/core/rules';
import { CLOSED_STATUSES_SQL, COUNTED_PAID_SQL, COUNTED_TIPS_SQL, payableSql } from '@app/domain/repositories/order-rules.sql';
import { OrderStatus as OrderStatusEnum, Prisma } from '@app/db';
import type { OrderDraft } from '@app/domain/core/commands';
import { DomainRefusal } from '@app/domain/core/refusal';

const now = new Date('2026-01-01T12:00:00.000Z');
const at = (ms: number) => new Date(now.getTime() + ms);
const order = (o: Partial<{ id: string; status: string; currency: string; totalAmount: bigint; paidAmount: bigint; payable: boolean; heldByVenue: boolean }> = {}) => ({
  id: 'o1', status: 'New', currency: 'GBP', totalAmount: 1000n, paidAmount: 0n, payable: true, ...o,
});
const attempt = (a: Partial<Parameters<typeof decidePayment>[3]> & { source?: string } = {}) => ({ paymentRef: 'pi1', amount: 400n, tips: 0n, currency: 'GBP', ...a });

describe('core rules: order status', () => {
  it('Canceled, Finalized and Failed are closed; every other status is open', () => {
    assert.deepEqual([...CLOSED_ORDER_STATUSES], ['Canceled', 'Finalized', 'Failed']);
    for (const s of CLOSED_ORDER_STATUSES) assert.equal(isClosedStatus(s), true);
    for (const s of ['New', 'Submitted', 'Confirmed', 'Accepted', 'Preparing', 'Prepared', 'Ready']) assert.equal(isClosedStatus(s), false);
    assert.equal(isClosedStatus(null), false);
    assert.equal(isClosedStatus(undefined), false);
  });

  it("the SQL list and payable expression are generated from the same constant, within the venue's hold", () => {
    assert.equal(CLOSED_STATUSES_SQL.sql, "'Canceled', 'Finalized', 'Failed'");
    assert.equal(payableSql(Prisma.sql`s.paid`).sql, "(NOT o.held_by_venue AND s.paid < o.total_amount AND o.status NOT IN ('Canceled', 'Finalized', 'Failed'))");
  });

  it('the SQL of a payment\'s counted amounts is countedAmounts: Recorded only, net of refunds, paid first then tips', () => {
    assert.equal(COUNTED_PAID_SQL.sql, "(CASE WHEN p.state = 'Recorded' THEN GREATEST(p.paid_amount - p.refunded_amount, 0) ELSE 0 END)");
    assert.equal(COUNTED_TIPS_SQL.sql, "(CASE WHEN p.state = 'Recorded' THEN GREATEST(p.tips_amount - GREATEST(p.refunded_amount - p.paid_amount, 0), 0) ELSE 0 END)");
    assert.equal(COUNTED_PAID_SQL.values.length + COUNTED_TIPS_SQL.values.length, 0, 'no parameters: the state is the rule\'s constant');
  });
});

describe('core rules: money', () => {
  it('paid and tips are the sums over Recorded payments only', () => {
    const p = (state: string, paid: bigint, tips: bigint) => ({ state, paidAmount: paid, tipsAmount: tips });
    assert.deepEqual(paidTotals([]), { paid: 0n, tips: 0n });
    assert.deepEqual(paidTotals([p('Recorded', 300n, 20n), p('Refunded', 500n, 50n), p('Recorded', 100n, 0n), p('Reversed', 1n, 1n), p('Canceled', 2n, 2n)]), { paid: 400n, tips: 20n });
  });

  it('a Recorded payment counts net of its refunds: off the paid amount first, then the tips', () => {
    const p = (paid: bigint, tips: bigint, refunded: bigint, state = 'Recorded') => ({ state, paidAmount: paid, tipsAmount: tips, refundedAmount: refunded });
    assert.deepEqual(countedAmounts(p(2000n, 0n, 0n)), { paid: 2000n, tips: 0n });
    assert.deepEqual(countedAmounts(p(2000n, 0n, 1000n)), { paid: 1000n, tips: 0n }, 'half refunded: £10 of £20 counts');
    assert.deepEqual(countedAmounts(p(2000n, 0n, 2000n)), { paid: 0n, tips: 0n });
    assert.deepEqual(countedAmounts(p(2000n, 300n, 500n)), { paid: 1500n, tips: 300n }, 'tips untouched while the refund fits in the paid amount');
    assert.deepEqual(countedAmounts(p(2000n, 300n, 2100n)), { paid: 0n, tips: 200n }, 'beyond the paid amount the refund takes tips');
    assert.deepEqual(countedAmounts(p(2000n, 300n, 9999n)), { paid: 0n, tips: 0n }, 'never negative');
    assert.deepEqual(countedAmounts({ state: 'Recorded', paidAmount: 700n, tipsAmount: 10n }), { paid: 700n, tips: 10n }, 'no refundedAmount: nothing refunded');
    for (const state of ['Refunded', 'Reversed', 'Canceled']) assert.deepEqual(countedAmounts(p(2000n, 300n, 500n, state)), { paid: 0n, tips: 0n }, state);
    // paid + tips drops by exactly the refund, whatever the split.
    for (const [paid, tips] of [[2000n, 0n], [2000n, 300n], [1n, 5n]] as const) {
      for (let r = 0n; r <= paid + tips; r++) {
        const c = countedAmounts(p(paid, tips, r));
        assert.equal(c.paid + c.tips, paid + tips - r, `${paid}+${tips} refunded ${r}`);
        if (r > 40n && r < paid - 40n) r += 97n;
      }
    }
    assert.deepEqual(paidTotals([p(2000n, 0n, 1000n), p(500n, 50n, 0n), p(900n, 0n, 100n, 'Refunded')]), { paid: 1500n, tips: 50n });
  });

  it('a refund is full when it reaches the payment\'s total (paid + tips)', () => {
    assert.equal(isFullRefund({ paidAmount: 2000n, tipsAmount: 0n }, 1000n), false);
    assert.equal(isFullRefund({ paidAmount: 2000n, tipsAmount: 0n }, 2000n), true);
    assert.equal(isFullRefund({ paidAmount: 2000n, tipsAmount: 300n }, 2000n), false);
    assert.equal(isFullRefund({ paidAmount: 2000n, tipsAmount: 300n }, 2300n), true);
    assert.equal(isFullRefund({ paidAmount: 2000n, tipsAmount: 300n }, 2400n), true);
  });

  it('outstanding is total - paid', () => {
    assert.equal(outstandingAmount({ totalAmount: 1000n, paidAmount: 250n }), 750n);
    assert.equal(outstandingAmount({ totalAmount: 1000n, paidAmount: 1000n }), 0n);
  });

  it('payable: open and paid < total', () => {
    assert.equal(isPayable({ status: 'New', totalAmount: 1000n, paidAmount: 999n }), true);
    assert.equal(isPayable({ status: 'New', totalAmount: 1000n, paidAmount: 1000n }), false);
    assert.equal(isPayable({ status: 'New', totalAmount: 0n, paidAmount: 0n }), false);
    assert.equal(isPayable({ status: 'Finalized', totalAmount: 1000n, paidAmount: 0n }), false);
    assert.equal(isPayable({ status: 'Canceled', totalAmount: 1000n, paidAmount: 0n }), false);
  });

  it('amounts are non-negative safe integers', () => {
    assert.equal(isValidMinorAmount(0), true);
    assert.equal(isValidMinorAmount(Number.MAX_SAFE_INTEGER), true);
    assert.equal(isValidMinorAmount(-1), false);
    assert.equal(isValidMinorAmount(1.5), false);
    assert.equal(isValidMinorAmount(2 ** 53), false);
    assert.equal(isValidMinorAmount(Number.NaN), false);
  });
});

describe('core rules: locks', () => {
  const lock = { lockId: 'L1', expiresAt: at(1000) };
  it('a lock is live only while its expiry is after now (an expired lock counts as absent)', () => {
    assert.equal(isLockLive(lock, now), true);
    assert.equal(isLockLive({ ...lock, expiresAt: now }, now), false);
    assert.equal(isLockLive({ ...lock, expiresAt: at(-1) }, now), false);
    assert.equal(isLockLive(null, now), false);
    assert.equal(liveLock(lock, now), lock);
    assert.equal(liveLock({ ...lock, expiresAt: at(-1) }, now), null);
    assert.equal(liveLock(undefined, now), null);
  });

  it('held by another: a live lock with another id', () => {
    assert.equal(isHeldByAnother(lock, 'L2', now), true);
    assert.equal(isHeldByAnother(lock, 'L1', now), false);
    assert.equal(isHeldByAnother({ ...lock, expiresAt: at(-1) }, 'L2', now), false);
    assert.equal(isHeldByAnother(null, 'L2', now), false);
  });
});

describe('core rules: a terminal\'s lock in the legacy dialects (isTerminalsLock, heldLockRef)', () => {
  const named = { prefix: 'x:T1:', unnamed: 'x:T1', terminalId: 'A' };
  const unnamed = { prefix: 'x:T1:', unnamed: 'x:T1' };
  it('names the lock after the terminal when the message names it', () => {
    assert.equal(terminalLockRef(named), 'x:T1:A');
    assert.equal(terminalLockRef(unnamed), 'x:T1');
  });
  it('the same terminal, or a side that names none, is the payment\'s lock; another terminal or dialect is not', () => {
    assert.equal(isTerminalsLock('x:T1:A', named), true);
    assert.equal(isTerminalsLock('x:T1', named), true, 'the lock named no terminal');
    assert.equal(isTerminalsLock('x:T1:B', named), false, 'another terminal');
    assert.equal(isTerminalsLock('x:T1:B', unnamed), true, 'the payment names no terminal');
    assert.equal(isTerminalsLock('x:T1', unnamed), true);
    assert.equal(isTerminalsLock('dojo-lock', unnamed), false, 'another dialect\'s lock');
    assert.equal(isTerminalsLock('x:T10:A', unnamed), false, 'another table');
  });
  it('a payment or an unlock acts under the live lock its names cover, else under its own name', () => {
    const live = { lockId: 'x:T1', expiresAt: new Date(Date.now() + 60_000) };
    assert.equal(heldLockRef(live, 'x:T1:A', named), 'x:T1');
    assert.equal(heldLockRef({ ...live, lockId: 'x:T1:B' }, 'x:T1:A', named), 'x:T1:A');
    assert.equal(heldLockRef(null, 'x:T1:A', named), 'x:T1:A');
    assert.equal(heldLockRef(live, 'L2', undefined), 'L2', 'exact names (EPOS Data) are taken as they are');
  });
});

describe('core rules: payment acceptance', () => {
  it('a card machine may pay what is outstanding less what counter sales still running may take, never below 0', () => {
    assert.equal(cardMachineRoom(1000n, 0n), 1000n);
    assert.equal(cardMachineRoom(1000n, 600n), 400n);
    assert.equal(cardMachineRoom(1000n, 1000n), 0n);
    assert.equal(cardMachineRoom(500n, 600n), 0n);
  });
  it('accepts a payment up to what is outstanding, in the order currency', () => {
    assert.deepEqual(decidePayment(order(), null, null, attempt(), now), { kind: 'accept' });
    assert.deepEqual(decidePayment(order({ paidAmount: 600n }), null, null, attempt(), now), { kind: 'accept' });
    assert.deepEqual(decidePayment(order(), null, null, attempt({ amount: 0n }), now), { kind: 'accept' });
  });

  it('refuses overpayment, closed and non-payable orders, another currency', () => {
    const refused = (d: ReturnType<typeof decidePayment>) => (d.kind === 'refuse' ? d.reason : assert.fail(`expected a refusal, got ${d.kind}`));
    assert.match(refused(decidePayment(order({ paidAmount: 700n }), null, null, attempt(), now)), /paidAmount 400 is more than the 300 outstanding on order o1 \(total 1000, paid 700\)/);
    assert.match(refused(decidePayment(order({ status: 'Finalized' }), null, null, attempt(), now)), /order o1 is Finalized/);
    assert.match(refused(decidePayment(order({ payable: false }), null, null, attempt(), now)), /not payable/);
    assert.match(refused(decidePayment(order(), null, null, attempt({ currency: 'EUR' }), now)), /the order is in GBP but the payment is in EUR/);
    assert.match(refused(decidePayment(order(), null, null, attempt({ tipsCurrency: 'USD' }), now)), /the payment is in USD/);
  });

  it("the venue's hold refuses a card machine's or a checkout link's payment, never the venue's own counter sale", () => {
    const held = order({ payable: false, heldByVenue: true });
    for (const source of ['epos-data', 'dojo-tables', 'connect-pat', 'online', undefined] as const) {
      const d = decidePayment(held, null, null, attempt({ source }), now);
      assert.equal(d.kind, 'refuse', String(source));
      assert.match((d as { reason: string }).reason, /not payable/);
    }
    assert.deepEqual(decidePayment(held, null, null, attempt({ source: 'connect-pac' }), now), { kind: 'accept' });
    // Only the hold is passed: a closed order, one paid in full, or more than is outstanding is still refused.
    assert.match((decidePayment(order({ payable: false, heldByVenue: true, status: 'Canceled' }), null, null, attempt({ source: 'connect-pac' }), now) as { reason: string }).reason, /is Canceled/);
    assert.match((decidePayment(order({ payable: false, heldByVenue: true, paidAmount: 1000n }), null, null, attempt({ source: 'connect-pac' }), now) as { reason: string }).reason, /not payable/);
    assert.match((decidePayment(order({ payable: false }), null, null, attempt({ source: 'connect-pac' }), now) as { reason: string }).reason, /not payable/, 'not payable without a hold');
    assert.match((decidePayment(held, null, null, attempt({ source: 'connect-pac', amount: 1001n }), now) as { reason: string }).reason, /more than the 1000 outstanding/);
  });

  it("a card machine's payment leaves what the counter sales still running may take; a counter sale's or a checkout link's is not held back", () => {
    // 1000 outstanding, 700 of it in a counter sale running: a card machine may pay 300.
    const d = decidePayment(order(), null, null, attempt({ amount: 301n, source: 'epos-data' }), now, 700n);
    assert.equal(d.kind, 'refuse');
    assert.match((d as { reason: string }).reason, /paidAmount 301 is more than the 300 left on order o1: of the 1000 outstanding, 700 is being paid at a counter terminal/);
    for (const source of ['epos-data', 'dojo-tables', 'connect-pat', undefined] as const) {
      assert.equal(decidePayment(order(), null, null, attempt({ amount: 300n, source }), now, 700n).kind, 'accept', String(source));
      assert.equal(decidePayment(order(), null, null, attempt({ amount: 301n, source }), now, 700n).kind, 'refuse', String(source));
    }
    assert.match((decidePayment(order({ paidAmount: 500n }), null, null, attempt({ amount: 1n }), now, 700n) as { reason: string }).reason, /more than the 0 left/);
    for (const source of ['connect-pac', 'online'] as const) {
      assert.equal(decidePayment(order(), null, null, attempt({ amount: 1000n, source }), now, 700n).kind, 'accept', source);
    }
    // A replay is answered as before, whatever runs since.
    const existing = { orderId: 'o1', currency: 'GBP', paidAmount: 400n, tipsAmount: 0n };
    assert.deepEqual(decidePayment(order(), null, existing, attempt({ source: 'epos-data' }), now, 1000n), { kind: 'replay' });
  });

  it("a payment that must hold its terminal's lock is taken under the order's live lock row when it is the terminal's, an expired one only under its own name", () => {
    const names = (terminalId?: string) => ({ prefix: 'dojo-tables:', unnamed: 'dojo-tables', ...(terminalId ? { terminalId } : {}) });
    const expired = (lockId: string) => ({ lockId, expiresAt: at(-60_000) });
    const live = (lockId: string) => ({ lockId, expiresAt: at(60_000) });
    assert.equal(paymentLockOf(live('dojo-tables:TID-1'), true, 'dojo-tables:TID-1', names('TID-1')), 'dojo-tables:TID-1');
    assert.equal(paymentLockOf(live('dojo-tables:TID-1'), true, 'dojo-tables', names()), 'dojo-tables:TID-1', 'a payment naming no terminal, live lock');
    assert.equal(paymentLockOf(live('dojo-tables:TID-1'), true, 'dojo-tables:TID-2', names('TID-2')), undefined, "another terminal's lock");
    assert.equal(paymentLockOf(expired('dojo-tables:TID-1'), false, 'dojo-tables:TID-1', names('TID-1')), 'dojo-tables:TID-1', 'its own, expired');
    assert.equal(paymentLockOf(expired('dojo-tables:TID-1'), false, 'dojo-tables', names()), undefined, "an expired named lock is not a payment naming none's");
    assert.equal(paymentLockOf(expired('dojo-tables:TID-1'), false, 'dojo-tables:TID-2', names('TID-2')), undefined, "another terminal's, expired");
    assert.equal(paymentLockOf(expired('dojo-tables'), false, 'dojo-tables:TID-3', names('TID-3')), undefined, 'an expired lock naming no terminal may be any device\'s');
    assert.equal(paymentLockOf(expired('dojo-tables'), false, 'dojo-tables', names()), 'dojo-tables', 'a payment naming none under the expired lock naming none');
    assert.equal(paymentLockOf(expired('lk-epos'), false, 'dojo-tables:TID-1', names('TID-1')), undefined, 'an EPOS Data lock');
    assert.equal(paymentLockOf(expired('lk-epos'), false, 'lk-epos', undefined), 'lk-epos', 'a dialect naming locks exactly');
    assert.equal(paymentLockOf(null, false, 'dojo-tables:TID-1', names('TID-1')), undefined, 'unlocked');
  });

  it('a live lock of another id refuses a payment that names its lock; an expired lock or no lockRef does not', () => {
    const lock = { lockId: 'L1', expiresAt: at(1000) };
    const d = decidePayment(order(), lock, null, attempt({ lockRef: 'L2' }), now);
    assert.equal(d.kind, 'refuse');
    assert.match((d as { reason: string }).reason, /locked by another lock \(L1\), not L2/);
    assert.equal(decidePayment(order(), lock, null, attempt({ lockRef: 'L1' }), now).kind, 'accept');
    assert.equal(decidePayment(order(), lock, null, attempt(), now).kind, 'accept');
    assert.equal(decidePayment(order(), { ...lock, expiresAt: at(-1) }, null, attempt({ lockRef: 'L2' }), now).kind, 'accept');
  });

  it('a payment already recorded for the reference is a replay with the same values, else a mismatch (checked first)', () => {
    const existing = { orderId: 'o1', currency: 'GBP', paidAmount: 400n, tipsAmount: 0n };
    assert.equal(isSamePayment(existing, 'o1', attempt()), true);
    assert.deepEqual(decidePayment(order({ status: 'Finalized', payable: false }), null, existing, attempt(), now), { kind: 'replay' });
    for (const other of [attempt({ amount: 401n }), attempt({ tips: 1n }), attempt({ currency: 'EUR' })]) {
      assert.deepEqual(decidePayment(order(), null, existing, other, now), { kind: 'mismatch', existing });
    }
    assert.equal(decidePayment(order({ id: 'o2' }), null, existing, attempt(), now).kind, 'mismatch');
  });

  it('with a time on both sides (the Tables API\'s attemptedAt), a replay is also at the same time; a time on one side only is not compared', () => {
    const t = new Date('2026-01-01T11:59:00.123Z');
    const timed = { orderId: 'o1', currency: 'GBP', paidAmount: 400n, tipsAmount: 0n, attemptedAt: t };
    assert.deepEqual(decidePayment(order(), null, timed, attempt({ attemptedAt: new Date(t.getTime()) }), now), { kind: 'replay' });
    assert.deepEqual(decidePayment(order(), null, timed, attempt({ attemptedAt: new Date(t.getTime() + 1) }), now), { kind: 'mismatch', existing: timed });
    assert.equal(isSamePayment(timed, 'o1', attempt()), true, 'the repeat states no time');
    assert.equal(isSamePayment({ ...timed, attemptedAt: null }, 'o1', attempt({ attemptedAt: t })), true, 'recorded without a time');
    assert.equal(isSamePayment(timed, 'o1', attempt({ attemptedAt: t, amount: 401n })), false, 'the same time does not make other amounts a repeat');
  });
});

describe('core rules: keys', () => {
  it('the payment-intent lock key, the request idempotency key and the Dojo order key', () => {
    assert.equal(paymentIntentLockKey('loc', 'pi'), 'dojo-intent:loc:pi');
    assert.equal(requestIdempotencyKey('loc', '42'), 'rpc:loc:42');
    assert.equal(dojoOrderLockKey('loc', 'd1'), 'order:loc:d1');
  });
});

describe('a new order\'s amounts (checkOrderDraft, placedPaymentRefusal)', () => {
  const gbp = (value: number) => ({ value, currency: 'GBP' });
  const draft = (over: Partial<OrderDraft> = {}): OrderDraft => ({
    details: { orderType: 'Collection', asap: true },
    lines: [{ name: 'Tea', plu: 'T', quantity: 2, amountPerItem: gbp(250), modifiers: [], subItems: [] }],
    discounts: [],
    taxLines: [],
    totalAmount: gbp(500),
    ...over,
  });

  it('gives the currency and totals in minor units', () => {
    assert.deepEqual(checkOrderDraft(draft({ serviceChargeAmount: gbp(50) })), { currency: 'GBP', totalAmount: 500n, serviceChargeAmount: 50n });
    assert.deepEqual(checkOrderDraft(draft()), { currency: 'GBP', totalAmount: 500n, serviceChargeAmount: null });
  });

  it('refuses a missing total, a second currency and a total that is not minor units, naming the field', () => {
    const refusal = (d: OrderDraft) => {
      try {
        checkOrderDraft(d);
      } catch (err) {
        assert.ok(err instanceof DomainRefusal);
        return { kind: err.kind, field: err.field, message: err.message };
      }
      return assert.fail('accepted');
    };
    assert.deepEqual(refusal(draft({ totalAmount: undefined })), { kind: 'invalid', field: 'totalAmount', message: 'totalAmount is required' });
    assert.equal(refusal(draft({ serviceChargeAmount: { value: 1, currency: 'EUR' } })).field, 'serviceChargeAmount');
    const line = { name: 'x', plu: 'x', quantity: 1, amountPerItem: { value: 1, currency: 'EUR' }, modifiers: [], subItems: [] };
    assert.match(refusal(draft({ lines: [line] })).message, /items\[0\]\.amountPerItem is in EUR but totalAmount is in GBP/);
    for (const value of [-1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      assert.equal(refusal(draft({ totalAmount: gbp(value) })).message, 'totalAmount.value must be a non-negative integer in minor units', String(value));
    }
  });

  it(`refuses more than MAX_ORDER_ITEMS (${MAX_ORDER_ITEMS}) items, naming items: ten parameters each must fit one statement`, () => {
    const line = { name: 'Tea', plu: 'T', quantity: 1, amountPerItem: gbp(1), modifiers: [], subItems: [] };
    assert.ok(MAX_ORDER_ITEMS * 10 < 65_535);
    assert.equal(checkOrderDraft(draft({ lines: Array(MAX_ORDER_ITEMS).fill(line), totalAmount: gbp(MAX_ORDER_ITEMS) })).totalAmount, BigInt(MAX_ORDER_ITEMS));
    assert.throws(
      () => checkOrderDraft(draft({ lines: Array(MAX_ORDER_ITEMS + 1).fill(line) })),
      (err: unknown) => err instanceof DomainRefusal && err.kind === 'invalid' && err.field === 'items' && /1001 items; an order has at most 1000/.test(err.message),
    );
  });

  it('allows negative line amounts (a discount line)', () => {
    const line = { name: 'Voucher', plu: 'V', quantity: 1, amountPerItem: gbp(-100), modifiers: [], subItems: [] };
    assert.equal(checkOrderDraft(draft({ lines: [line], totalAmount: gbp(0) })).totalAmount, 0n);
  });

  it('refuses a placed payment in another currency or negative, and accepts one in the order\'s currency', () => {
    assert.equal(placedPaymentRefusal({ paymentRef: 'p', amount: gbp(100), tips: gbp(10) }, 0, 'GBP'), undefined);
    assert.match(placedPaymentRefusal({ paymentRef: 'p', amount: { value: 1, currency: 'EUR' } }, 2, 'GBP')!.message, /payments\[2\] is not in the order's currency GBP/);
    assert.match(placedPaymentRefusal({ paymentRef: 'p', amount: gbp(100), tips: { value: 1, currency: 'EUR' } }, 0, 'GBP')!.message, /currency/);
    assert.match(placedPaymentRefusal({ paymentRef: 'p', amount: gbp(-1) }, 0, 'GBP')!.message, /negative/);
    assert.match(placedPaymentRefusal({ paymentRef: 'p', amount: gbp(1), tips: gbp(-1) }, 0, 'GBP')!.message, /negative/);
  });

  it('knows every order status the database knows', () => {
    assert.deepEqual([...ORDER_STATUSES].sort(), Object.values(OrderStatusEnum).sort());
  });
});

describe('an order the venue may not delete (orderDeletionRefusal)', () => {
  const none = { payments: 0, paymentIntents: 0, openCounterSaleAmount: 0n };

  it('lets an order with no money recorded against it go', () => {
    assert.equal(orderDeletionRefusal('o1', none), undefined);
  });

  it('refuses for any payment, payment intent or running counter sale, naming each and what to do instead', () => {
    assert.equal(
      orderDeletionRefusal('o1', { ...none, payments: 1 }),
      'order "o1" cannot be deleted: it has 1 payment, kept with it; close it instead (PUT with status Finalized or Canceled)',
    );
    assert.match(orderDeletionRefusal('o1', { ...none, paymentIntents: 2 })!, /it has 2 payment intents, kept/);
    assert.match(orderDeletionRefusal('o1', { ...none, openCounterSaleAmount: 1n })!, /it has a counter sale still running or not resolved, kept/);
    assert.match(
      orderDeletionRefusal('o1', { payments: 3, paymentIntents: 1, openCounterSaleAmount: 500n })!,
      /it has 3 payments, 1 payment intent and a counter sale still running or not resolved, kept/,
    );
  });
});

describe("how low a venue's replace may set an order's total (orderTotalRefusal)", () => {
  const none = { openIntentAmount: 0n, openCounterSaleAmount: 0n };
  const paid = (paidAmount: bigint) => ({ totalAmount: 2000n, paidAmount });

  it('lets the total go down to what is paid plus what is in flight, and never refuses a total kept or raised', () => {
    assert.equal(orderTotalRefusal('o1', 1200n, paid(1200n), none), undefined);
    assert.equal(orderTotalRefusal('o1', 1700n, paid(1200n), { openIntentAmount: 300n, openCounterSaleAmount: 200n }), undefined);
    assert.equal(orderTotalRefusal('o1', 2000n, { totalAmount: 2000n, paidAmount: 2500n }, none), undefined, 'kept: not made worse');
    assert.equal(orderTotalRefusal('o1', 2100n, { totalAmount: 2000n, paidAmount: 2500n }, none), undefined, 'raised');
  });

  it('refuses a total below what is paid (overpaid), or below what is paid plus open intents and running counter sales', () => {
    assert.equal(orderTotalRefusal('o1', 1199n, paid(1200n), none), 'order "o1" has 1200 paid: its totalAmount cannot go below 1200 (asked 1199); refund first');
    assert.equal(
      orderTotalRefusal('o1', 1699n, paid(1200n), { openIntentAmount: 300n, openCounterSaleAmount: 200n }),
      'order "o1" has 1200 paid and 300 in open payment intents and 200 in counter sales still running or not resolved: its totalAmount cannot go below 1700 (asked 1699); refund or cancel first, or wait for them to end',
    );
    assert.match(orderTotalRefusal('o1', 0n, paid(0n), { ...none, openCounterSaleAmount: 1n })!, /has 0 paid and 1 in counter sales still running or not resolved: its totalAmount cannot go below 1/);
  });
});

describe('closing an order while money is in flight for it (orderCloseRefusal)', () => {
  const none = { openIntentAmount: 0n, openCounterSaleAmount: 0n };

  it('refuses closing an open order while an open intent or a running counter sale may take money for it', () => {
    assert.equal(
      orderCloseRefusal('o1', 'Submitted', 'Finalized', { ...none, openIntentAmount: 500n }),
      'order "o1" has 500 in open payment intents: it cannot be Finalized while they may still take money; cancel them first, or wait for them to end',
    );
    assert.match(orderCloseRefusal('o1', 'Submitted', 'Canceled', { ...none, openCounterSaleAmount: 300n })!, /300 in counter sales still running or not resolved: it cannot be Canceled/);
  });

  it('lets an order close with nothing in flight, stay open, or be replaced once closed', () => {
    assert.equal(orderCloseRefusal('o1', 'Submitted', 'Finalized', none), undefined);
    assert.equal(orderCloseRefusal('o1', 'Submitted', 'Ready', { ...none, openIntentAmount: 500n }), undefined, 'not closing');
    assert.equal(orderCloseRefusal('o1', 'Canceled', 'Canceled', { ...none, openIntentAmount: 500n }), undefined, 'already closed');
  });
});

describe('an order whose currency may not change (orderCurrencyChangeRefusal)', () => {
  const none = { payments: 0, paymentIntents: 0, openCounterSaleAmount: 0n };

  it('lets the currency change while nothing records money against the order, and the same currency always', () => {
    assert.equal(orderCurrencyChangeRefusal('o1', 'GBP', 'EUR', none), undefined);
    assert.equal(orderCurrencyChangeRefusal('o1', 'GBP', 'GBP', { ...none, payments: 2 }), undefined);
  });

  it('refuses another currency once a payment, intent or running counter sale is in the old one', () => {
    assert.equal(orderCurrencyChangeRefusal('o1', 'GBP', 'EUR', { ...none, payments: 1 }), 'order "o1" is in GBP and has 1 payment in it, so it cannot change to EUR');
    assert.match(orderCurrencyChangeRefusal('o1', 'GBP', 'EUR', { ...none, openCounterSaleAmount: 10n })!, /has a counter sale still running or not resolved in it/);
  });
});

describe("what a venue's replace of a party or reservation keeps (partyFieldsKeptByVenueReplace)", () => {
  it("keeps the guest's requests always, and the deposit when the body has none", () => {
    assert.deepEqual(partyFieldsKeptByVenueReplace({}), ['guestRequests', 'deposit']);
    assert.deepEqual(partyFieldsKeptByVenueReplace({ deposit: null }), ['guestRequests', 'deposit']);
    assert.deepEqual(partyFieldsKeptByVenueReplace({ deposit: { totalAmount: { value: 500, currencyCode: 'GBP' }, paymentIntentIds: [] } }), ['guestRequests']);
    assert.deepEqual([...RESERVATION_FIELDS_KEPT_BY_VENUE_REPLACE], ['guestRequests']);
  });
});

describe("a party's content (partyContentProblems)", () => {
  const start = new Date('2026-11-21T12:00:00.000Z');
  const party = (over: Partial<Parameters<typeof partyContentProblems>[0]> = {}) => ({ startTime: start, expectedEndTime: null, endTime: null, deposit: null, ...over });
  const fields = (p: Parameters<typeof partyContentProblems>[0]) => partyContentProblems(p).map((x) => x.field);

  it('takes a party without an end, one ending when or after it starts, and a deposit of minor units in an ISO 4217 currency', () => {
    assert.deepEqual(fields(party()), []);
    assert.deepEqual(fields(party({ endTime: start, expectedEndTime: new Date(start.getTime() + 3_600_000) })), []);
    assert.deepEqual(fields(party({ deposit: { totalAmount: { value: 0, currencyCode: 'GBP' }, paymentIntentIds: [] } })), []);
  });

  it('refuses an end or expected end before the start, and a negative, fractional or unsafe deposit or one in no currency', () => {
    const before = new Date(start.getTime() - 1);
    assert.deepEqual(fields(party({ endTime: before, expectedEndTime: before })), ['endTime', 'expectedEndTime']);
    assert.deepEqual(fields(party({ deposit: { totalAmount: { value: -5000, currencyCode: 'XX' } } })), ['deposit.totalAmount.value', 'deposit.totalAmount.currencyCode']);
    for (const value of [1.5, Number.MAX_SAFE_INTEGER + 2, '100']) {
      assert.deepEqual(fields(party({ deposit: { totalAmount: { value, currencyCode: 'GBP' } } })), ['deposit.totalAmount.value'], String(value));
    }
    assert.deepEqual(fields(party({ deposit: { totalAmount: { value: 1, currencyCode: 'gbp' } } })), ['deposit.totalAmount.currencyCode']);
  });
});
