/**
 * The sandbox's virtual terminals without a socket: the outcome table (by
 * terminal id first, else the amount's last two digits) and the transaction a
 * terminal reports, for every result, checked with the codec's reply schema.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectPac } from '@app/contracts';
import { PAC_DEFAULT_TIDS, pacOutcome, pacTransaction } from '@app/dojo-sandbox';

describe('sandbox PAC terminals', () => {
  it('chooses the outcome by terminal id first, else by the amount ending', () => {
    assert.equal(pacOutcome('VT-DECLINE', 1000), 'decline');
    assert.equal(pacOutcome('VT-SIGNATURE', 1001), 'signature');
    assert.equal(pacOutcome('VT-CANCEL', 100), 'cancel');
    assert.equal(pacOutcome('VT-TIMEOUT', 100), 'timeout');
    assert.equal(pacOutcome('VT-DISCONNECT', 100), 'disconnect');
    const byEnding = [100, 1, 2002, 303, 99_999_904, 5, 1250, 7].map((a) => pacOutcome('VT-1', a));
    assert.deepEqual(byEnding, ['approve', 'decline', 'signature', 'cancel', 'timeout', 'disconnect', 'approve', 'approve']);
    assert.deepEqual(PAC_DEFAULT_TIDS, ['VT-1', 'VT-2', 'VT-DECLINE', 'VT-SIGNATURE', 'VT-CANCEL', 'VT-TIMEOUT', 'VT-DISCONNECT']);
  });

  it('reports a transaction the codec reads, for every result, with both receipt copies', () => {
    for (const result of ConnectPac.PAC_TRANSACTION_RESULTS) {
      for (const kind of ['sale', 'refund'] as const) {
        const t = pacTransaction({ tid: 'VT-1', location: 'Counter', kind, currency: 'GBP', amount: 1234, amountCashback: 500, result, verification: 'PIN', notifications: ['TRANSACTION_STARTED'], transactionNumber: 7 });
        const read = ConnectPac.readPacResult(kind, t);
        assert.deepEqual(read.ok && read.result, t, `${kind} ${result}: read whole, nothing dropped`);
        assert.equal(t.transactionType, kind === 'sale' ? 'SALE' : 'REFUND');
        assert.deepEqual([t.amountBase, t.amountCashback, t.amountTotal], [1234, 500, 1734]);
        assert.deepEqual(Object.keys(t.receiptLines!), ['MERCHANT', 'CUSTOMER']);
        assert.equal(t.authCode !== undefined, result === 'SUCCESSFUL', `auth code only when approved (${result})`);
        assert.equal(t.transactionNumber, '000007');
        assert.match(t.transactionTime!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, "Connect's time: no offset");
      }
    }
  });

  it("reads Connect's own example of a transaction: a time without an offset, receipt lines with only a value", () => {
    const documented = {
      transactionType: 'SALE', transactionResult: 'SUCCESSFUL', amountBase: 100, amountTotal: 150, currency: 'GBP',
      transactionTime: '2019-03-04T16:12:00', transactionId: '1234567', transactionNumber: '0012',
      receiptLines: { MERCHANT: [{ value: "John's Shop" }, { type: 'TEXT', format: ['BOLD'], value: 'APPROVED' }], CUSTOMER: [] },
      notifications: ['TRANSACTION_FINISHED', 'APPROVED'],
    };
    assert.equal(ConnectPac.pacResultProblem('sale', documented), undefined);
    assert.equal(ConnectPac.pacResultProblem('duplicate', documented), undefined);
    // A time of another form decides no reply: dropped (a recovery then cannot match it: outcome_unknown).
    const odd = ConnectPac.readPacResult('sale', { ...documented, transactionTime: '4 March 2019' });
    assert.deepEqual(odd.ok && [odd.result.transactionTime, odd.result.amountBase], [undefined, 100]);
    assert.notEqual(ConnectPac.pacResultProblem('sale', { ...documented, amountBase: '1.00' }), undefined, 'an amount decides money');
  });
});
