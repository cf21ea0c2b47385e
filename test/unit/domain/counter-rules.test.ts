/** Pay at counter's pure rules (libs/domain/src/core/rules/counter.ts), without a database. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectPac } from '@app/contracts';
import { cancelOf, counterSaleRefusal, counterSettlementOf, isCounterOpen, recordsPayment, recoveredMatches, RECOVER_CLOCK_SLACK_MS } from '@app/domain/core/rules';

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
    assert.equal(recoveredMatches(sale, t()), true);
    assert.equal(recoveredMatches(sale, t({ transactionType: 'REFUND' })), false);
    assert.equal(recoveredMatches(sale, t({ amountBase: 999 })), false);
    assert.equal(recoveredMatches(sale, t({ amountBase: undefined })), false);
    assert.equal(recoveredMatches(sale, t({ transactionTime: undefined })), false, 'no time: cannot be told from an older one');
    assert.equal(recoveredMatches(sale, t({ transactionTime: new Date(sentAt.getTime() - RECOVER_CLOCK_SLACK_MS).toISOString() })), true);
    assert.equal(recoveredMatches(sale, t({ transactionTime: new Date(sentAt.getTime() - RECOVER_CLOCK_SLACK_MS - 1).toISOString() })), false);
    assert.equal(recoveredMatches({ kind: 'refund', amount: 1000n, sentAt }, t({ transactionType: 'REFUND' })), true);
    assert.equal(recoveredMatches({ kind: 'duplicate', amount: null, sentAt }, t({ transactionType: 'REFUND', amountBase: 5 })), true, 'a duplicate matches any type and amount');
    assert.equal(recoveredMatches({ ...sale, sentAt: null }, t()), false);
  });

  it('settles each outcome kind', () => {
    assert.deepEqual(counterSettlementOf(sale, { kind: 'transaction', transaction: t({ transactionResult: 'DECLINED' }) }), { state: 'finished', result: 'DECLINED', transaction: t({ transactionResult: 'DECLINED' }) });
    assert.equal(counterSettlementOf(sale, { kind: 'recovered', transaction: null }).state, 'failed');
    const stale = counterSettlementOf(sale, { kind: 'recovered', transaction: t({ amountBase: 1 }) });
    assert.equal(stale.state === 'failed' && stale.failure, 'not_executed');
    assert.equal(counterSettlementOf(sale, { kind: 'recovered', transaction: t() }).state, 'finished');
    const refused = counterSettlementOf(sale, { kind: 'refused', code: -32009, message: 'busy' });
    assert.equal(refused.state === 'failed' && refused.failure, 'refused');
    const bad = counterSettlementOf(sale, { kind: 'unreadable', problem: 'sale.transactionResult is required', raw: {} });
    assert.equal(bad.state === 'failed' && bad.failure, 'unreadable');
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
    for (const s of ['recovering', 'finished', 'failed'] as const) assert.equal(cancelOf(s), 'refuse');
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
  });
});
