import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contractValidator, EposError } from '@app/contracts';
import { decodeSeqCursor, encodeCursor, pageRequest, paginate } from '@app/domain/rpc/cursor';
import { orderToDojo } from '@app/domain/orders/order-mapper';
import { partyToDojo } from '@app/domain/parties/party-mapper';
import type { PartyRow } from '@app/domain/repositories/parties-reservations.repository';
import { dojoOrderToCreateData } from '@app/domain/dialects/epos-data/orders.mapping';
import { DomainError } from '@app/domain/admin/errors';
import { parseCounterCursor } from '@app/domain/counter/view';
import type { VenueDeps } from '@app/domain/venue/ports';
import { ReadVenueFeed } from '@app/domain/venue/usecases/read-venue-feed.usecase';

describe('cursors', () => {
  it('round-trip, and refuse cursors of another kind or garbage as InvalidRequest', () => {
    const c = encodeCursor('o', 42n);
    assert.equal(decodeSeqCursor('o', c, 'cursor.after'), 42n);
    for (const bad of [encodeCursor('p', 42n), 'abc$', encodeCursor('o', 'x1'), '']) {
      assert.throws(() => decodeSeqCursor('o', bad, 'cursor.after'), (e: unknown) => e instanceof EposError && e.errorType === 'InvalidRequest');
    }
  });

  it('limit defaults to 50, caps at 100, and before/after are exclusive', () => {
    assert.equal(pageRequest(undefined, (c) => c).limit, 50);
    assert.throws(() => pageRequest({ limit: 101 }, (c) => c));
    assert.throws(() => pageRequest({ before: 'a', after: 'b' }, (c) => c));
  });

  it('paginates forward and backward over a keyed list', async () => {
    const rows = [1, 2, 3, 4, 5].map((n) => ({ k: n }));
    const run = (req: { limit: number; after?: number; before?: number }) =>
      paginate(
        req,
        (r: { k: number }) => r.k,
        (k) => `c${k}`,
        async (dir, bound, take) => {
          const sel = rows.filter((r) => bound === undefined || (dir === 'asc' ? r.k > bound : r.k < bound));
          return (dir === 'asc' ? sel : [...sel].reverse()).slice(0, take);
        },
        async (dir, bound) => rows.some((r) => (dir === 'asc' ? r.k > bound : r.k < bound)),
      );
    const p1 = await run({ limit: 2 });
    assert.deepEqual(p1, { data: [{ k: 1 }, { k: 2 }], after: 'c2' });
    const p3 = await run({ limit: 2, after: 4 });
    assert.deepEqual(p3, { data: [{ k: 5 }], before: 'c5' });
    const back = await run({ limit: 2, before: 5 });
    assert.deepEqual(back, { data: [{ k: 3 }, { k: 4 }], before: 'c3', after: 'c4' });
  });
});

describe('cursors of (transaction id, id) pairs: both Postgres bigints', () => {
  const MAX = '9223372036854775807';
  const TOO_BIG = ['9223372036854775808', '99999999999999999999'];

  it('a counter event id (Last-Event-ID) above 2^63-1 is not an event id', () => {
    assert.deepEqual(parseCounterCursor(`${MAX}.${MAX}`), { tx: 9223372036854775807n, id: 9223372036854775807n });
    assert.deepEqual(parseCounterCursor(' 12.34 '), { tx: 12n, id: 34n });
    for (const big of TOO_BIG) {
      assert.equal(parseCounterCursor(`${big}.1`), undefined, big);
      assert.equal(parseCounterCursor(`1.${big}`), undefined, big);
    }
    for (const bad of ['', '1', '1.', '.1', '-1.1', '1.1.1', 'a.1']) assert.equal(parseCounterCursor(bad), undefined, bad);
  });

  it("the venue feed's `after` above 2^63-1 is refused (400 naming after) without reading the feed", async () => {
    const asked: unknown[] = [];
    const deps = { venue: { feed: { readAfter: async (_l: string, c: unknown) => (asked.push(c), { expired: false, rows: [] }) } } } as unknown as VenueDeps;
    const feed = new ReadVenueFeed(deps);
    assert.deepEqual(await feed.execute('loc', `${MAX}.${MAX}`, 10), { entries: [], cursor: `${MAX}.${MAX}` });
    assert.deepEqual(asked, [{ tx: 9223372036854775807n, id: 9223372036854775807n }]);
    for (const after of [...TOO_BIG.flatMap((b) => [`${b}.1`, `1.${b}`]), '1', 'x.1']) {
      await assert.rejects(feed.execute('loc', after, 10), (e: unknown) => e instanceof DomainError && e.kind === 'invalid' && e.fields[0]?.field === 'after', after);
    }
    assert.equal(asked.length, 1, 'nothing read for a refused cursor');
  });

  it('an RPC seq cursor above 2^63-1 is not a cursor this EPOS issued', () => {
    assert.equal(decodeSeqCursor('o', encodeCursor('o', 9223372036854775807n), 'cursor.after'), 9223372036854775807n);
    assert.throws(() => decodeSeqCursor('o', encodeCursor('o', '9223372036854775808'), 'cursor.after'), (e: unknown) => e instanceof EposError && e.errorType === 'InvalidRequest');
  });
});

describe('order mapper', () => {
  it('turns a contract order into rows and back into a contract-valid Order', () => {
    const now = new Date('2026-11-21T12:00:00.000Z');
    const data = dojoOrderToCreateData(
      '00000000-0000-0000-0000-000000000001',
      {
        status: 'Accepted',
        totalAmount: { value: 1250, currencyCode: 'GBP' },
        items: [{ name: 'Tea', plu: 'T', quantity: 2, amountPerItem: { value: 625, currencyCode: 'GBP' } }],
        details: { orderType: 'DineIn', dineIn: { tableId: 'T1', readyAt: '2026-11-21T13:00:00Z' } },
        displayName: 'Tea for two',
      },
      { id: 'o1' },
    );
    assert.equal(data.order.totalAmount, 1250n);
    assert.equal(data.items[0]!.amountPerItem, 625n);
    const row = {
      ...(data.order as any),
      seq: 1n,
      paidAmount: 250n,
      tipsAmount: 10n,
      payable: true,
      version: 1,
      customer: null,
      createdAt: now,
      updatedAt: now,
      items: data.items.map((i) => ({ ...i })),
      payments: [
        { locationId: 'x', paymentIntentId: 'pi', orderId: 'o1', currency: 'GBP', paidAmount: 250n, tipsAmount: 10n, lockId: null, state: 'Recorded', intentStatus: null, createdAt: now, updatedAt: now },
        { locationId: 'x', paymentIntentId: 'pi2', orderId: 'o1', currency: 'GBP', paidAmount: 99n, tipsAmount: 0n, lockId: null, state: 'Refunded', intentStatus: null, createdAt: now, updatedAt: now },
      ],
    };
    const order = orderToDojo(row);
    assert.equal(order.paidAmount!.value, 250);
    assert.equal(order.payments!.length, 1, 'only Recorded payments are listed');
    assert.equal(order.details.dineIn!.readyAt, '2026-11-21T13:00:00.000Z');
    assert.equal(order.createdAt, '2026-11-21T12:00:00.000Z');
    const v = contractValidator().validateSchema('Order', order);
    assert.ok(v.ok, JSON.stringify(v));
  });

  it('refuses an order whose amounts mix currencies', () => {
    assert.throws(
      () =>
        dojoOrderToCreateData(
          'l',
          { totalAmount: { value: 1, currencyCode: 'GBP' }, items: [{ name: 'x', plu: 'x', quantity: 1, amountPerItem: { value: 1, currencyCode: 'EUR' } }], details: { orderType: 'Collection', collection: {} } },
          { id: 'o' },
        ),
      /EUR/,
    );
  });
});

describe('party mapper', () => {
  const row = (deposit: PartyRow['deposit']): PartyRow => ({
    locationId: '7f73c3c0-0000-4000-8000-000000000001', id: 'p1', seq: 1n, dojoPartyId: null, name: null, covers: 2, tableIds: ['t1'], status: 'Seated',
    startTime: new Date('2026-11-21T12:00:00.000Z'), expectedEndTime: null, endTime: null, hostNotes: null, guestRequests: null, reservationId: null,
    deposit, version: 1, createdAt: new Date(), updatedAt: new Date(),
  });

  it('shows a stored deposit only when it is an object, so the Party it answers fits the contract', () => {
    const deposit = { totalAmount: { value: 5000, currencyCode: 'GBP' }, paymentIntentIds: ['pi_1'] };
    assert.deepEqual(partyToDojo(row(deposit)).deposit, deposit);
    assert.deepEqual(contractValidator().validateSchema('Party', partyToDojo(row(deposit))), { ok: true });
    // Stored before the contract's PartyDeposit was read as an object.
    for (const bad of [[], ['x'], 'abc', 5, true]) {
      const party = partyToDojo(row(bad));
      assert.equal('deposit' in party, false, JSON.stringify(bad));
      assert.deepEqual(contractValidator().validateSchema('Party', party), { ok: true }, JSON.stringify(bad));
    }
  });
});
