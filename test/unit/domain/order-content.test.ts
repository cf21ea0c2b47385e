import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dojoOrderToCreateData } from '@app/domain/dialects/epos-data/orders.mapping';
import { holdsVenueContent } from '@app/domain/orders/order-content';
import type { OrderWithRelations } from '@app/domain/orders/order-mapper';
import { orderRowOf } from '@app/domain/orders/order-mapper';

const LOC = '00000000-0000-4000-8000-000000000001';
/** A venue's order in Dojo's shape, as the venue API's PUT takes it. */
const draft = {
  id: 'o-1',
  status: 'Accepted',
  details: { orderType: 'DineIn', dineIn: { tableId: 't1', waiterId: 'w1', readyAt: '2026-12-04T19:30:00.000Z' } },
  items: [{ name: 'Burger', plu: 'B1', quantity: 2, amountPerItem: { value: 1000, currencyCode: 'GBP' }, modifiers: [{ name: 'Cheese', plu: 'M1', quantity: 1, amountPerModifier: { value: 0, currencyCode: 'GBP' } }], subItems: [] }],
  totalAmount: { value: 2000, currencyCode: 'GBP' },
  customer: { id: 'c-1', phoneNumber: '+44' },
};

const state = { paidAmount: 0n, tipsAmount: 0n, payable: true, version: 3, createdAt: new Date('2026-12-04T10:00:00Z'), updatedAt: new Date('2026-12-04T10:00:00Z'), payments: [] };
const row = (d: unknown = draft, s = state): OrderWithRelations => orderRowOf(dojoOrderToCreateData(LOC, d as never, { id: 'o-1', origin: 'pos' }), s);

describe('holdsVenueContent: whether a stored order already holds what a venue write would write', () => {
  it('the same write is held; fields the server keeps (payments, amounts, version, times, origin) are not compared', () => {
    assert.equal(holdsVenueContent(row(), row()), true);
    const paidSince = row(draft, { ...state, paidAmount: 500n, tipsAmount: 50n, payable: false, version: 9, updatedAt: new Date() });
    assert.equal(holdsVenueContent({ ...paidSince, seq: 42n, origin: 'dojo', dojoOrderId: 'd-1' }, row()), true);
  });

  it('key order in JSON fields, a Date against its ISO string, and an absent value against null do not count', () => {
    const stored = row();
    const reordered = { ...stored, customer: { phoneNumber: '+44', id: 'c-1' }, readyAt: '2026-12-04T20:30:00+01:00' as never, note: undefined as never };
    assert.equal(holdsVenueContent(stored, reordered), true);
  });

  it('any field the venue sets, any item and any value inside a JSON field makes it a different write', () => {
    const stored = row();
    const d = draft as unknown as Record<string, any>;
    const line = d.items[0];
    for (const changed of [
      { ...d, status: 'Finalized' },
      { ...d, note: 'no onions' },
      { ...d, payable: false },
      { ...d, customer: { id: 'c-1' } },
      { ...d, details: { orderType: 'DineIn', dineIn: { ...d.details.dineIn, readyAt: '2026-12-04T19:30:00.001Z' } } },
      { ...d, details: { orderType: 'DineIn', dineIn: { ...d.details.dineIn, tableId: 't2' } } },
      { ...d, items: [{ ...line, quantity: 3 }], totalAmount: { value: 3000, currencyCode: 'GBP' } },
      { ...d, items: [{ ...line, modifiers: [{ ...line.modifiers[0], quantity: 2 }] }] },
      { ...d, items: [line, { ...line, plu: 'B2' }], totalAmount: { value: 4000, currencyCode: 'GBP' } },
    ]) {
      assert.equal(holdsVenueContent(stored, row(changed)), false, JSON.stringify(changed));
    }
    assert.equal(holdsVenueContent(stored, { ...stored, items: [] }), false, 'an item less');
  });
});
