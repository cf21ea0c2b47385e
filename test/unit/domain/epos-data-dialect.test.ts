/**
 * The EPOS Data dialect as a mapping module (libs/domain/src/dialects/epos-data):
 * every wire method has one entry in the method table, params become commands
 * in venue terms, domain results become wire responses. No database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { EposError, METHOD_INFO } from '@app/contracts';
import type { Order } from '@app/domain/core/commands';
import { EPOS_DATA_METHODS } from '@app/domain/dialects/epos-data/method-table';
import * as orders from '@app/domain/dialects/epos-data/orders.mapping';
import * as venue from '@app/domain/dialects/epos-data/venue-objects.mapping';
import { encodeCursor } from '@app/domain/rpc/cursor';

const now = new Date('2026-01-01T12:00:00.000Z');
const GBP = (value: number) => ({ value, currencyCode: 'GBP' });
const refused = (f: () => unknown, type: string, re: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof EposError && e.errorType === type && re.test(e.debugMessage));

function order(over: Partial<Order> = {}): Order {
  const at = new Date('2026-01-01T10:00:00.000Z');
  return {
    locationId: 'loc', id: 'o1', seq: 7n, origin: 'pos', dojoOrderId: null, reference: null, displayName: null, note: null,
    status: 'Accepted', orderType: 'DineIn', tableId: 'T1', waiterId: null, partyId: null, reservationId: null, readyAt: null,
    collectionAsap: null, collectAt: null, customer: null, discounts: [], taxLines: [], currency: 'GBP', totalAmount: 1000n,
    serviceChargeAmount: null, paidAmount: 400n, tipsAmount: 50n, payable: true, heldByVenue: false, version: 3, createdAt: at, updatedAt: at, items: [],
    payments: [
      { locationId: 'loc', paymentIntentId: 'pi1', orderId: 'o1', currency: 'GBP', paidAmount: 400n, tipsAmount: 50n, cashbackAmount: 0n, refundedAmount: 0n, lockId: null, state: 'Recorded', intentStatus: null, createdAt: at, updatedAt: at },
      { locationId: 'loc', paymentIntentId: 'pi0', orderId: 'o1', currency: 'GBP', paidAmount: 100n, tipsAmount: 0n, cashbackAmount: 0n, refundedAmount: 0n, lockId: null, state: 'Refunded', intentStatus: 'Refunded', createdAt: at, updatedAt: at },
    ],
    ...over,
  };
}

describe('EPOS Data dialect: method table', () => {
  it('has one entry per served wire method (HandleEventV1 goes to the events pipeline)', () => {
    const served = Object.keys(METHOD_INFO).filter((m) => m !== 'HandleEventV1').sort();
    assert.deepEqual(Object.keys(EPOS_DATA_METHODS).sort(), served);
    for (const m of served) {
      const e = EPOS_DATA_METHODS[m as keyof typeof EPOS_DATA_METHODS];
      assert.equal(typeof e.toCommand, 'function', m);
      assert.equal(typeof e.toWire, 'function', m);
      assert.equal(typeof e.useCase.execute, 'function', m);
      if (METHOD_INFO[m as keyof typeof METHOD_INFO].mutates && m !== 'CreateOrderV1' && /Order|Lock/.test(m)) {
        assert.equal(typeof e.useCase.plan, 'function', `${m} changes an order through a plan`);
      }
    }
  });
});

describe('EPOS Data dialect: params to commands', () => {
  it('RecordOrderPaymentByIdV1 becomes RecordPayment in minor units', () => {
    assert.deepEqual(orders.recordPayment.toCommand({ orderId: 'o1', paymentIntentId: 'pi', paidAmount: GBP(500), tipsAmount: GBP(25), lockId: 'L1' }), {
      orderId: 'o1', paymentRef: 'pi', amount: 500n, tips: 25n, currency: 'GBP', tipsCurrency: 'GBP', lockRef: 'L1', source: 'epos-data',
    });
    const bare = orders.recordPayment.toCommand({ orderId: 'o1', paymentIntentId: 'pi', paidAmount: GBP(0) });
    assert.equal(bare.tips, 0n);
    assert.equal(bare.lockRef, undefined);
    refused(() => orders.recordPayment.toCommand({ orderId: 'o1', paymentIntentId: 'pi', paidAmount: GBP(-1) }), 'InvalidRequest', /paidAmount.value must be a non-negative integer/);
    refused(() => orders.recordPayment.toCommand({ orderId: 'o1', paymentIntentId: 'pi', paidAmount: GBP(1), tipsAmount: GBP(0.5) }), 'InvalidRequest', /tipsAmount.value/);
  });

  it('lock requests carry a future expiry; a past or malformed one is refused with the wire field name', () => {
    const later = new Date(now.getTime() + 60_000).toISOString();
    assert.deepEqual(orders.lockOrder.toCommand({ orderId: 'o1', lockId: 'L1', expiry: later }, now), {
      orderId: 'o1', lockRef: 'L1', expiresAt: new Date(later), source: 'epos-data',
    });
    assert.deepEqual(orders.unlockOrder.toCommand({ orderId: 'o1', lockId: 'L1' }), { orderId: 'o1', lockRef: 'L1', source: 'epos-data' });
    refused(() => orders.lockOrder.toCommand({ orderId: 'o1', lockId: 'L1', expiry: now.toISOString() }, now), 'InvalidRequest', /is not in the future/);
    refused(() => orders.extendLock.toCommand({ orderId: 'o1', lockId: 'L1', expiry: 'soon' }, now), 'InvalidRequest', /is not an ISO 8601 date-time/);
  });

  it('SearchOrdersV1 becomes FindOrders with the dine-in filter and a decoded cursor', () => {
    const cmd = orders.searchOrders.toCommand({ dineIn: { tableId: 'T1' }, payableOnly: true, cursor: { limit: 2, after: encodeCursor('o', 5n) } });
    assert.deepEqual(cmd.filter, { tableId: 'T1', waiterId: undefined, partyId: undefined, reservationId: undefined, payableOnly: true });
    assert.deepEqual(cmd.page, { limit: 2, after: 5n, before: undefined });
  });
});

describe('EPOS Data dialect: results to the wire', () => {
  it('an Order keeps only Recorded payments and money as Money', () => {
    const wire = orders.getOrder.toWire(order());
    assert.deepEqual(wire.paidAmount, GBP(400));
    assert.deepEqual(wire.payments, [{ paymentIntentId: 'pi1', paidAmount: GBP(400), tipsAmount: GBP(50) }]);
  });

  it('a partly refunded payment shows what it counts (net), so the payments add up to paidAmount', () => {
    const at = new Date('2026-01-01T10:00:00.000Z');
    const half = { locationId: 'loc', paymentIntentId: 'pi2', orderId: 'o1', currency: 'GBP', paidAmount: 2000n, tipsAmount: 0n, cashbackAmount: 0n, refundedAmount: 1000n, lockId: null, state: 'Recorded' as const, intentStatus: 'Refunded', createdAt: at, updatedAt: at };
    const wire = orders.getOrder.toWire(order({ paidAmount: 1000n, tipsAmount: 0n, payments: [half] }));
    assert.deepEqual(wire.payments, [{ paymentIntentId: 'pi2', paidAmount: GBP(1000), tipsAmount: GBP(0) }]);
    assert.deepEqual(wire.paidAmount, GBP(1000));
  });

  it('a page of orders gets cursors on the sides where more matches lie', () => {
    const page = orders.searchOrders.toWire({ orders: [order(), order({ id: 'o2', seq: 9n })], hasBefore: true, hasAfter: false });
    assert.equal(page.data.length, 2);
    assert.equal(page.before, encodeCursor('o', 7n));
    assert.equal(page.after, undefined);
    assert.deepEqual(orders.searchOrders.toWire({ orders: [], hasBefore: true, hasAfter: true }), { data: [] });
  });

  it('ExtendOrderLockV1 answers {}; a bill without a template is headed by the venue name', () => {
    assert.deepEqual(orders.extendLock.toWire({ lockRef: 'L1', expiresAt: now }), {});
    const log = createLogger('t', 'silent');
    const bill = orders.getBill.toWire({ order: order(), header: [], footer: [], venueName: 'The Arms', hasTemplate: false }, log);
    assert.deepEqual(bill.header.lines, [{ lineType: 'MerchantName', merchantName: { name: 'The Arms' } }]);
    const kept = orders.getBill.toWire({ order: order(), header: [{ lineType: 'Nope' }], footer: [], venueName: null, hasTemplate: true }, log);
    assert.deepEqual(kept.header.lines, [], 'a stored line that does not fit the contract is left out');
  });
});

describe('EPOS Data dialect: parties, reservations, tables and areas', () => {
  it('search params become filters; a reversed time window is refused before any read', () => {
    assert.deepEqual(venue.searchParties.toCommand({ tableId: 'T1' }).filter, { completedOnly: false, tableId: 'T1' });
    const r = venue.searchReservations.toCommand({ fromTime: '2026-01-01T10:00:00Z', toTime: '2026-01-01T12:00:00Z' });
    assert.deepEqual(r.filter, { tableId: undefined, endsAfter: new Date('2026-01-01T10:00:00Z'), startsBefore: new Date('2026-01-01T12:00:00Z') });
    refused(() => venue.searchReservations.toCommand({ fromTime: '2026-01-01T12:00:00Z', toTime: '2026-01-01T10:00:00Z' }), 'InvalidRequest', /is before fromTime/);
    refused(() => venue.searchReservations.toCommand({ fromTime: 'later' }), 'InvalidRequest', /fromTime "later" is not an ISO 8601/);
    assert.deepEqual(venue.searchTables.toCommand({ areaId: 'A', cursor: { limit: 3, before: encodeCursor('t', 'T9') } }), {
      filter: { areaId: 'A', waiterId: undefined }, page: { limit: 3, after: undefined, before: 'T9' },
    });
  });

  it('party and reservation creates and updates become SaveParty / SaveReservation in venue terms', () => {
    const created = venue.createParty.toCommand({ dojoPartyId: 'dp1', tableIds: ['T1'], startTime: '2026-01-01T10:00:00Z', covers: 2, dojoReservationId: 'dr1' });
    assert.deepEqual(created, {
      dojoPartyId: 'dp1', dojoReservationId: 'dr1',
      details: {
        name: null, covers: 2, tableIds: ['T1'], status: undefined, startTime: new Date('2026-01-01T10:00:00Z'),
        expectedEndTime: null, endTime: null, hostNotes: null, guestRequests: null, deposit: null,
      },
    });
    const updated = venue.updateParty.toCommand({ id: 'p1', dojoPartyId: 'dp1', tableIds: ['T1'], status: 'Seated', startTime: '2026-01-01T10:00:00Z', endTime: '2026-01-01T11:00:00Z' });
    assert.equal(updated.partyId, 'p1');
    assert.deepEqual(updated.details.endTime, new Date('2026-01-01T11:00:00Z'));
    refused(() => venue.updateParty.toCommand({ id: 'p1', dojoPartyId: 'dp1', tableIds: ['T1'], status: 'Seated', startTime: 'soon' }), 'InvalidRequest', /startTime "soon" is not an ISO 8601/);
    const res = venue.updateReservation.toCommand({
      id: 'r1', dojoReservationId: 'dr1', name: 'Ada', covers: 4, tableIds: ['T1'], startTime: '2026-01-01T19:00:00Z', endTime: '2026-01-01T21:00:00Z',
    });
    assert.deepEqual(res, {
      reservationId: 'r1', dojoReservationId: 'dr1',
      details: { name: 'Ada', covers: 4, startTime: new Date('2026-01-01T19:00:00Z'), endTime: new Date('2026-01-01T21:00:00Z'), tableIds: ['T1'], hostNotes: null, guestRequests: null },
    });
    refused(() => venue.createReservation.toCommand({ dojoReservationId: 'dr1', name: 'Ada', covers: 4, tableIds: ['T1'], startTime: '2026-01-01T19:00:00Z', endTime: 'x' }), 'InvalidRequest', /endTime "x"/);
  });

  it('pages of tables carry table-id cursors; areas and deletes map as the contract says', () => {
    const t = (id: string) => ({ locationId: 'loc', id, name: id, maxCovers: null, areaId: null, waiterIds: [] }) as never;
    const page = venue.searchTables.toWire({ rows: [t('T1'), t('T2')], hasBefore: false, hasAfter: true });
    assert.deepEqual(page, { data: [{ id: 'T1', name: 'T1', waiterIds: [] }, { id: 'T2', name: 'T2', waiterIds: [] }], after: encodeCursor('t', 'T2') });
    assert.deepEqual(venue.listAreas.toWire([{ locationId: 'loc', id: 'A', name: 'Bar', waiterIds: ['w'] } as never]), [{ id: 'A', name: 'Bar', waiterIds: ['w'] }]);
    assert.deepEqual(venue.deleteParty.toWire(), {});
    assert.deepEqual(venue.deleteReservation.toWire(), {});
  });
});
