/**
 * The Tables API dialect's mapping module (libs/domain/src/dialects/dojo-tables): params to commands and results
 * to wire shapes, in the Tables API's own words (protocols.md Part 1). No database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TablesParams } from '@app/contracts';
import type { Order } from '@app/domain/core/commands';
import * as sessions from '@app/domain/dialects/dojo-tables/sessions.mapping';
import { tablesBill } from '@app/domain/dialects/dojo-tables/wire.mapping';

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

  it('reads attemptedAt as an instant of an ISO 8601 date-time, and takes anything else as not stated', () => {
    const at = (attemptedAt: string | null | undefined) =>
      sessions.recordPayment.toCommand(
        { orderId: 'o1', payment: { id: 'p1', sessionId: 's1', baseAmount: 2000, currency: 'GBP', paymentSuccessful: true, attemptedAt } },
        now,
        open,
      ).attemptedAt?.toISOString();
    assert.equal(at('2026-01-01T11:59:00.123Z'), '2026-01-01T11:59:00.123Z');
    assert.equal(at('2026-01-01T12:59:00.123+01:00'), '2026-01-01T11:59:00.123Z', 'an offset');
    assert.equal(at('2026-01-01T12:59:00+0100'), '2026-01-01T11:59:00.000Z', 'an offset without a colon');
    assert.equal(at('2026-01-01T12:59:00+01'), '2026-01-01T11:59:00.000Z', 'an offset of hours');
    assert.equal(at('2026-01-01T11:59:00.1234567Z'), '2026-01-01T11:59:00.123Z', 'beyond milliseconds cut, as stored');
    assert.equal(at('2026-01-01T11:59:00'), '2026-01-01T11:59:00.000Z', 'no offset: UTC');
    assert.equal(at(' 2026-01-01 11:59:00Z '), '2026-01-01T11:59:00.000Z', 'a space for the T, and blanks around');
    for (const raw of [undefined, null, '', 'yesterday', 'Thu, 01 Jan 2026 11:59:00 GMT', '2026-13-01T11:59:00Z', '2026-01-01']) {
      assert.equal(at(raw), undefined, String(raw));
    }
  });
});

describe('Tables API dialect: bill items', () => {
  const at = new Date('2026-01-01T10:00:00.000Z');
  const money = (value: number) => ({ value, currencyCode: 'GBP' });
  const order = (items: Order['items']): Order => ({
    locationId: 'loc', id: 'o1', seq: 1n, origin: 'pos', dojoOrderId: null, reference: null, displayName: null, note: null,
    status: 'Accepted', orderType: 'DineIn', tableId: 'T1', waiterId: null, partyId: null, reservationId: null, readyAt: null,
    collectionAsap: null, collectAt: null, customer: null, discounts: [], taxLines: [], currency: 'GBP', totalAmount: 6200n,
    serviceChargeAmount: null, paidAmount: 0n, tipsAmount: 0n, payable: true, heldByVenue: false, version: 1, createdAt: at, updatedAt: at,
    payments: [], items,
  });

  it("flattens sub-items into modifiers, a sub-item's modifiers counted per unit of the item (EPOS Data counts them per sub-item)", () => {
    const bill = tablesBill(order([{
      locationId: 'loc', orderId: 'o1', position: 0, name: 'Burger meal', plu: 'B1', quantity: 2, amountPerItem: 1000n, note: null,
      modifiers: [{ name: 'Extra cheese', plu: 'C1', quantity: 2, amountPerModifier: money(50) }],
      subItems: [
        // Per burger meal: two side salads, each with one extra dressing, so two dressings per meal.
        { name: 'Side salad', plu: 'S1', quantity: 2, amountPerItem: money(300), modifiers: [{ name: 'Extra dressing', plu: 'D1', quantity: 1, amountPerModifier: money(25) }] },
        { name: 'Cola', plu: 'K1', quantity: 1, amountPerItem: money(200), modifiers: [{ name: 'No ice', plu: 'I1', quantity: 1, amountPerModifier: money(0) }] },
      ],
    }]));
    assert.equal(bill.items.length, 1);
    assert.equal(bill.items[0]!.quantity, 2);
    assert.deepEqual(bill.items[0]!.modifiers!.map((m) => [m.name, m.quantity, m.amountPerModifier]), [
      ['Extra cheese', 2, 50],
      ['Side salad', 2, 300],
      ['Extra dressing', 2, 25],
      ['Cola', 1, 200],
      ['No ice', 1, 0],
    ]);
    // What the items come to, counted from the wire, matches what the venue charges per meal.
    const perMeal = bill.items[0]!.amountPerItem + bill.items[0]!.modifiers!.reduce((sum, m) => sum + m.amountPerModifier * m.quantity, 0);
    assert.equal(perMeal, 1000 + 2 * 50 + 2 * 300 + 2 * 25 + 200);
  });
});
