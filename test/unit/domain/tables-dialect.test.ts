/**
 * The Tables API dialect's mapping module (libs/domain/src/dialects/dojo-tables): params to commands and results
 * to wire shapes, in the Tables API's own words (protocols.md Part 1). No database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TablesParams } from '@app/contracts';
import * as sessions from '@app/domain/dialects/dojo-tables/sessions.mapping';

const now = new Date('2026-01-01T12:00:00.000Z');
const open = { settings: {} };

describe('Tables API dialect: RecordPayment', () => {
  const pay = (tips: Partial<Pick<TablesParams['RecordPayment']['payment'], 'tipsAmount' | 'gratuityAmount'>>) =>
    sessions.recordPayment.toCommand(
      {
        orderId: 'o1',
        payment: { id: 'p1', sessionId: 's1', baseAmount: 2000, currency: 'GBP', paymentSuccessful: true, ...tips },
      },
      now,
      open,
    ).tips;

  it('takes the tip under either name, and never refuses a charged card over the two names', () => {
    assert.equal(pay({}), 0n);
    assert.equal(pay({ tipsAmount: 300 }), 300n, 'the docs\' name');
    assert.equal(pay({ gratuityAmount: 300 }), 300n, 'the SDK\'s name');
    assert.equal(pay({ tipsAmount: 300, gratuityAmount: 0 }), 300n, 'a serializer writing 0 in the field it does not use');
    assert.equal(pay({ tipsAmount: 0, gratuityAmount: 300 }), 300n);
    assert.equal(pay({ tipsAmount: null, gratuityAmount: 300 }), 300n);
    assert.equal(pay({ tipsAmount: 300, gratuityAmount: 300 }), 300n, 'the same tip under both names is one tip');
    assert.equal(pay({ tipsAmount: 300, gratuityAmount: 100 }), 400n, 'two different amounts are added');
  });
});
