/** Pay at counter's pure rules (libs/domain/src/core/rules/counter.ts), without a database. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectPac } from '@app/contracts';
import {
  appliesRefund, cancelOf, counterRefundRefusal, counterSaleRefusal, counterSettlementOf, isCounterOpen, recordsPayment, recoveredMatch, RECOVER_CLOCK_SLACK_MS,
  resolutionOf, terminalTimeMs, tookMoney,
} from '@app/domain/core/rules';

const sentAt = new Date('2026-11-30T12:00:00.000Z');
const t = (over: Partial<ConnectPac.PacTransaction> = {}): ConnectPac.PacTransaction => ({
  transactionType: 'SALE',
  transactionResult: 'SUCCESSFUL',
  amountBase: 1000,
  transactionTime: '2026-11-30T12:00:03.000Z',
  ...over,
});
const sale = { kind: 'sale' as const, amount: 1000n, sentAt };

describe('pay at counter rules', () => {
  it('a recovered transaction is ours only with the same type, amount and a time no earlier than sending (minus the slack)', () => {
    assert.equal(recoveredMatch(sale, t()), 'match');
    // Another transaction the terminal ran after ours was sent (a standalone sale, a terminal another EPOS shares):
    // ours may have run before it, so it does not say ours never ran.
    assert.equal(recoveredMatch(sale, t({ transactionType: 'REFUND' })), 'later');
    assert.equal(recoveredMatch(sale, t({ amountBase: 999 })), 'later');
    assert.equal(recoveredMatch(sale, t({ amountBase: undefined })), 'later');
    // One that ran before ours was sent is the terminal's last: ours never ran.
    const before = new Date(sentAt.getTime() - RECOVER_CLOCK_SLACK_MS - 1).toISOString();
    assert.equal(recoveredMatch(sale, t({ amountBase: 999, transactionTime: before })), 'other');
    assert.equal(recoveredMatch(sale, t({ transactionType: 'REFUND', transactionTime: before })), 'other');
    assert.equal(recoveredMatch(sale, t({ amountBase: 999, transactionTime: undefined })), 'no_time', 'another one without a time: before or after ours?');
    assert.equal(recoveredMatch(sale, t({ transactionTime: undefined })), 'no_time', 'no time: cannot be told from an older one');
    assert.equal(recoveredMatch(sale, t({ transactionTime: 'not a time' })), 'no_time');
    assert.equal(recoveredMatch(sale, t({ transactionTime: new Date(sentAt.getTime() - RECOVER_CLOCK_SLACK_MS).toISOString() })), 'match');
    assert.equal(recoveredMatch(sale, t({ transactionTime: new Date(sentAt.getTime() - RECOVER_CLOCK_SLACK_MS - 1).toISOString() })), 'other');
    assert.equal(recoveredMatch({ kind: 'refund', amount: 1000n, sentAt }, t({ transactionType: 'REFUND' })), 'match');
    assert.equal(recoveredMatch({ kind: 'duplicate', amount: null, sentAt }, t({ transactionType: 'REFUND', amountBase: 5 })), 'match', 'a duplicate matches any type and amount');
    assert.equal(recoveredMatch({ ...sale, sentAt: null }, t()), 'no_time');
  });

  it("reads Connect's times without an offset as UK wall-clock time, summer and winter, across the clock changes", () => {
    const at = (s: string) => new Date(terminalTimeMs(s)!).toISOString();
    assert.equal(at('2026-11-30T12:00:03'), '2026-11-30T12:00:03.000Z', 'winter: GMT');
    assert.equal(at('2026-07-01T13:00:00'), '2026-07-01T12:00:00.000Z', 'summer: BST, an hour ahead');
    assert.equal(at('2026-07-01T13:00:00Z'), '2026-07-01T13:00:00.000Z', 'an explicit Z is taken as it says');
    assert.equal(at('2026-07-01T13:00:00+02:00'), '2026-07-01T11:00:00.000Z', 'and an offset');
    // 25 October 2026: 01:00-02:00 happens twice (BST, then GMT); the later instant is taken.
    assert.equal(at('2026-10-25T01:30:00'), '2026-10-25T01:30:00.000Z');
    assert.equal(at('2026-10-25T00:59:59'), '2026-10-24T23:59:59.000Z');
    assert.equal(at('2026-10-25T02:00:00'), '2026-10-25T02:00:00.000Z');
    // 29 March 2026: 01:00-02:00 never happens; read with the winter offset.
    assert.equal(at('2026-03-29T01:30:00'), '2026-03-29T01:30:00.000Z');
    assert.equal(at('2026-03-29T02:00:00'), '2026-03-29T01:00:00.000Z');
    assert.equal(terminalTimeMs('yesterday'), undefined);
    // The sandbox writes times as Connect does; they read back to the second (but for the repeated hour's first pass).
    for (const d of ['2026-01-15T09:10:11.000Z', '2026-06-15T21:10:11.000Z', '2026-10-24T23:30:00.000Z', '2026-10-25T01:30:00.000Z']) {
      assert.equal(new Date(terminalTimeMs(ConnectPac.connectTimeOf(new Date(d)))!).toISOString(), d, d);
    }
    // A summer sale recovered with Connect's time matches; read as UTC it would look an hour older than the send.
    const summer = { kind: 'sale' as const, amount: 1000n, sentAt: new Date('2026-07-01T12:00:00.000Z') };
    assert.equal(recoveredMatch(summer, t({ transactionTime: '2026-07-01T13:00:02' })), 'match');
    assert.equal(recoveredMatch(summer, t({ transactionTime: '2026-07-01T12:00:02' })), 'other');
  });

  it("a recovered transaction another one already finished with, or one without a time, is not taken as this one's", () => {
    const claimed = counterSettlementOf(sale, { kind: 'recovered', transaction: t({ transactionId: 'T-1' }) }, 'other-counter-tx');
    assert.equal(claimed.state === 'failed' && claimed.failure, 'not_executed');
    assert.match(claimed.state === 'failed' ? claimed.message : '', /other-counter-tx/);
    // Another transaction of ours finished with it: ours was sent after that one ended, so it is no later one of ours.
    const claimedOther = counterSettlementOf(sale, { kind: 'recovered', transaction: t({ transactionId: 'T-1', amountBase: 350 }) }, 'other-counter-tx');
    assert.equal(claimedOther.state === 'failed' && claimedOther.failure, 'not_executed');
    const timeless = counterSettlementOf(sale, { kind: 'recovered', transaction: t({ transactionTime: undefined }) });
    assert.equal(timeless.state === 'failed' && timeless.failure, 'outcome_unknown');
    const unknown = counterSettlementOf(sale, { kind: 'unknown', reason: 'the terminal was not connected for 240 s' });
    assert.equal(unknown.state === 'failed' && unknown.failure, 'outcome_unknown');
    assert.match(unknown.state === 'failed' ? unknown.message : '', /not connected for 240 s.*check the terminal's receipts/);
  });

  it('settles each outcome kind', () => {
    assert.deepEqual(counterSettlementOf(sale, { kind: 'transaction', transaction: t({ transactionResult: 'DECLINED' }) }), { state: 'finished', result: 'DECLINED', transaction: t({ transactionResult: 'DECLINED' }) });
    assert.equal(counterSettlementOf(sale, { kind: 'recovered', transaction: null }).state, 'failed');
    const stale = counterSettlementOf(sale, { kind: 'recovered', transaction: t({ amountBase: 1, transactionTime: '2026-11-30T11:59:00.000Z' }) });
    assert.equal(stale.state === 'failed' && stale.failure, 'not_executed', 'the last transaction ran before this one was sent');
    const later = counterSettlementOf(sale, { kind: 'recovered', transaction: t({ amountBase: 1 }) });
    assert.equal(later.state === 'failed' && later.failure, 'outcome_unknown', 'another transaction ran after this one was sent: this one may have run too');
    assert.match(later.state === 'failed' ? later.message : '', /ran another transaction after this one was sent.*check the terminal's receipts, then resolve it/);
    assert.deepEqual(later.state === 'failed' && later.raw, t({ amountBase: 1 }));
    assert.equal(counterSettlementOf(sale, { kind: 'recovered', transaction: t() }).state, 'finished');
    const refused = counterSettlementOf(sale, { kind: 'refused', code: -32009, message: 'busy' });
    assert.equal(refused.state === 'failed' && refused.failure, 'refused');
    // An answer that cannot be read may be a charged card: it holds its amount until the venue resolves it.
    const bad = counterSettlementOf(sale, { kind: 'unreadable', problem: 'sale.transactionResult is required', raw: { amountBase: 1000 } });
    assert.equal(bad.state === 'failed' && bad.failure, 'outcome_unknown');
    assert.match(bad.state === 'failed' ? bad.message : '', /could not be read \(sale\.transactionResult is required\).*check the terminal's receipts, then resolve it/);
    assert.deepEqual(bad.state === 'failed' && bad.raw, { amountBase: 1000 }, 'what came is kept');
    assert.equal(resolutionOf({ id: 'c-1', state: bad.state, failure: bad.state === 'failed' ? bad.failure : null, resolution: null }, 'charged').do, 'resolve');
  });

  it('records a payment only for a SUCCESSFUL sale against an order', () => {
    const ok = counterSettlementOf(sale, { kind: 'transaction', transaction: t() });
    assert.equal(recordsPayment('sale', 'o-1', ok), true);
    assert.equal(recordsPayment('sale', null, ok), false);
    assert.equal(recordsPayment('refund', 'o-1', ok), false);
    for (const r of ['DECLINED', 'CANCELLED', 'TIMED_OUT', 'VOID'] as const) {
      assert.equal(recordsPayment('sale', 'o-1', counterSettlementOf(sale, { kind: 'transaction', transaction: t({ transactionResult: r }) })), false, r);
    }
  });

  it('cancel and open states', () => {
    assert.equal(cancelOf('accepted'), 'fail');
    assert.equal(cancelOf('sent'), 'request');
    assert.equal(cancelOf('cancel_requested'), 'already');
    assert.equal(cancelOf('recovering'), 'give_up');
    for (const s of ['finished', 'failed'] as const) assert.equal(cancelOf(s), 'refuse');
    assert.deepEqual(['accepted', 'sent', 'cancel_requested', 'recovering', 'finished', 'failed'].map(isCounterOpen), [true, true, true, true, false, false]);
  });

  it('a sale must fit its order net of the counter sales still running', () => {
    const order = { id: 'o-1', status: 'New', totalAmount: 5000n, paidAmount: 1000n, currency: 'GBP' };
    assert.equal(counterSaleRefusal(order, 0n, 4000n, 'GBP'), undefined);
    assert.match(counterSaleRefusal(order, 0n, 4001n, 'GBP')!, /4000 GBP left/);
    assert.match(counterSaleRefusal(order, 3000n, 1001n, 'GBP')!, /still running/);
    assert.match(counterSaleRefusal(order, 0n, 100n, 'EUR')!, /in GBP/);
    assert.match(counterSaleRefusal({ ...order, status: 'Canceled' }, 0n, 100n, 'GBP')!, /not payable/);
    assert.match(counterSaleRefusal({ ...order, paidAmount: 5000n }, 0n, 1n, 'GBP')!, /not payable/);
    // Open payment intents hold their part too.
    assert.equal(counterSaleRefusal(order, 1000n, 1000n, 'GBP', 2000n), undefined);
    assert.match(counterSaleRefusal(order, 1000n, 1001n, 'GBP', 2000n)!, /1000 GBP left to pay \(1000 is in counter sales still running or not resolved, 2000 in open payment intents\)/);
    assert.match(counterSaleRefusal(order, 0n, 1n, 'GBP', 5000n)!, /0 GBP left to pay \(5000 in open payment intents\)/);
  });

  it('applies a refund only for a SUCCESSFUL refund that names a sale', () => {
    const ok = counterSettlementOf({ kind: 'refund', amount: 1000n, sentAt }, { kind: 'transaction', transaction: t({ transactionType: 'REFUND' }) });
    assert.equal(appliesRefund('refund', 's-1', ok), true);
    assert.equal(appliesRefund('refund', null, ok), false, 'a refund naming no sale changes no order');
    assert.equal(appliesRefund('sale', 's-1', ok), false);
    const declined = counterSettlementOf({ kind: 'refund', amount: 1000n, sentAt }, { kind: 'transaction', transaction: t({ transactionType: 'REFUND', transactionResult: 'DECLINED' }) });
    assert.equal(appliesRefund('refund', 's-1', declined), false);
    assert.equal(appliesRefund('refund', 's-1', counterSettlementOf({ kind: 'refund', amount: 1000n, sentAt }, { kind: 'refused', code: -32009, message: 'busy' })), false);
  });

  it('a refund of a sale must fit what is left to refund of its payment, tips included, net of the refunds still running', () => {
    const s1 = { id: 's-1', kind: 'sale', state: 'finished', result: 'SUCCESSFUL', resolution: null, paymentId: 's-1', currency: 'GBP' };
    const paid = { state: 'Recorded', paidAmount: 5000n, tipsAmount: 150n, refundedAmount: 1000n };
    assert.equal(counterRefundRefusal(s1, paid, 0n, 4150n, 'GBP'), undefined, 'paid and tips less what was refunded');
    assert.match(counterRefundRefusal(s1, paid, 0n, 4151n, 'GBP')!, /4150 GBP left to refund; 4151 is more/);
    assert.match(counterRefundRefusal(s1, paid, 4000n, 151n, 'GBP')!, /150 GBP left to refund \(4000 is in refunds still running\)/);
    assert.match(counterRefundRefusal(s1, paid, 0n, 1n, 'EUR')!, /in GBP, not EUR/);
    assert.match(counterRefundRefusal(s1, { ...paid, state: 'Refunded' }, 0n, 1n, 'GBP')!, /is Refunded/);
    assert.match(counterRefundRefusal({ ...s1, result: 'DECLINED' }, null, 0n, 1n, 'GBP')!, /did not take money \(DECLINED\)/);
    assert.match(counterRefundRefusal({ ...s1, state: 'sent', result: null }, null, 0n, 1n, 'GBP')!, /did not take money \(sent\)/);
    assert.match(counterRefundRefusal({ ...s1, paymentId: null }, null, 0n, 1n, 'GBP')!, /not recorded on an order/);
    assert.match(counterRefundRefusal({ ...s1, kind: 'refund' }, paid, 0n, 1n, 'GBP')!, /is a refund, not a sale/);
    assert.match(counterRefundRefusal(s1, { ...paid, refundedAmount: 5150n }, 100n, 1n, 'GBP')!, /has 0 GBP left/, 'never a negative amount left');
    const resolved = { ...s1, state: 'failed', result: null };
    assert.equal(counterRefundRefusal({ ...resolved, resolution: 'charged' }, paid, 0n, 1n, 'GBP'), undefined, 'an unknown outcome resolved as charged took money');
    assert.match(counterRefundRefusal({ ...resolved, resolution: 'not_charged' }, paid, 0n, 1n, 'GBP')!, /did not take money \(not_charged\)/);
  });

  it('only a failed outcome_unknown transaction is resolved by the venue, once', () => {
    const t0 = { id: 'c-1', state: 'failed', failure: 'outcome_unknown' as const, resolution: null };
    assert.deepEqual(resolutionOf(t0, 'charged'), { do: 'resolve' });
    assert.deepEqual(resolutionOf({ ...t0, resolution: 'charged' }, 'charged'), { do: 'already' }, 'the same resolution again answers as before');
    const other = resolutionOf({ ...t0, resolution: 'charged' }, 'not_charged');
    assert.equal(other.do === 'refuse' && other.error, 'already_resolved');
    for (const t of [{ ...t0, failure: 'not_executed' as const }, { ...t0, state: 'recovering', failure: null }, { ...t0, state: 'finished', failure: null }]) {
      const r = resolutionOf(t, 'not_charged');
      assert.equal(r.do === 'refuse' && r.error, 'not_resolvable', JSON.stringify(t));
    }
    assert.equal(tookMoney({ state: 'failed', result: null, resolution: 'charged' }), true);
    assert.equal(tookMoney({ state: 'failed', result: null, resolution: null }), false);
    assert.equal(tookMoney({ state: 'finished', result: 'DECLINED', resolution: null }), false);
  });
});
