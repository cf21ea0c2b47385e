import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import type { TestDatabase } from '@app/testing';
import type { DojoStandIn } from './support/dojo-stand-in';
import type { AdminStand } from './support/admin-stand';
import { newSoftwareHouse, startAdminStand } from './support/admin-stand';
import type { Api } from './support/helpers';
import { apiClient, sampleOrder, sandboxKey } from './support/helpers';

/**
 * What the venue API refuses before it reaches Postgres or Dojo, against a real Postgres through the admin app: ids
 * too long for an index, times whose year in UTC is past 9999, orders with more items than one statement can write,
 * party and order content that makes no sense; a PUT racing a DELETE of the same party or reservation; and what a
 * POS is told when Dojo fails.
 */
describe('venue API input limits', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  let venue: Api;
  let base: string;

  let stand: AdminStand;

  before(async () => {
    stand = await startAdminStand('venuelimits');
    ({ db, dojo, admin } = stand);
    const api = stand.api;
    const softwareHouseId = await newSoftwareHouse(api, 'Tills');
    const loc = await api('POST', '/v1/locations', { body: { name: 'The Swan', softwareHouseId, dojoAccountId: `acc_vl_${Date.now()}`, apiKey: sandboxKey() } });
    assert.equal(loc.status, 201, JSON.stringify(loc.body));
    base = `/venue/v1/locations/${loc.body.id}`;
    venue = apiClient(admin.url, (await api('POST', `/v1/locations/${loc.body.id}/venue-tokens`, { body: { name: 'till' } })).body.token);
    assert.equal((await venue('PUT', `${base}/tables/t1`, { body: { name: 'T1' } })).status, 200);
  });

  after(async () => {
    await stand?.close();
  });

  const party = { tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers: 2 };
  const reservation = { name: 'Smith', covers: 2, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['t1'] };
  /** A PUT answered 400 naming exactly these fields. */
  const refused = async (path: string, body: unknown, fields: string[]) => {
    const r = await venue('PUT', `${base}${path}`, { body });
    assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body).slice(0, 300)}`);
    assert.deepEqual(r.body.fields.map((f: { field: string }) => f.field), fields, `${path}: ${JSON.stringify(r.body.fields).slice(0, 300)}`);
    return r.body;
  };
  const dineIn = (id: string, over: Record<string, unknown>) => {
    const o = sampleOrder(id) as any;
    o.details.dineIn = { ...o.details.dineIn, ...over };
    return o;
  };

  it('refuses ids longer than 256 characters in every venue body with 400 naming the field, and takes one of 256', async () => {
    // Random, so that Postgres cannot compress it below an index entry's limit (about 2.7 kB) as it would 'xxx...'.
    const long = randomBytes(3000).toString('base64url');
    for (const key of ['waiterId', 'partyId', 'reservationId']) {
      const body = await refused('/orders/O1', dineIn('O1', { [key]: long }), [`details.dineIn.${key}`]);
      assert.match(body.fields[0].reason, /4000 characters long; at most 256/);
    }
    await refused('/tables/T2', { name: 'T2', areaId: long }, ['areaId']);
    await refused('/tables/T3', { name: 'T3', waiterIds: ['w1', long] }, ['waiterIds.1']);
    await refused('/areas/A1', { name: 'Bar', waiterIds: [long] }, ['waiterIds.0']);
    await refused('/parties/P1', { ...party, reservationId: long }, ['reservationId']);
    await refused('/parties/P1', { ...party, tableIds: [long] }, ['tableIds.0']);
    await refused('/reservations/R1', { ...reservation, tableIds: [long] }, ['tableIds.0']);
    const r = await venue('PUT', `${base}/orders/O1`, { body: dineIn('O1', { waiterId: 'w'.repeat(256), partyId: 'p'.repeat(256) }) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // A bill template's logo is a whole SVG document: longer than other text may be.
    const svg = `<svg xmlns="http://www.w3.org/2000/svg">${'<rect width="1" height="1"/>'.repeat(4000)}</svg>`;
    const logo = await venue('PUT', `${base}/bill-template`, { body: { header: [{ lineType: 'Logo', logo: { svgImage: svg } }], footer: [] } });
    assert.equal(logo.status, 200, JSON.stringify(logo.body).slice(0, 300));
    // Ids in the path were capped already (128 characters).
    assert.equal((await venue('PUT', `${base}/areas/${'a'.repeat(129)}`, { body: { name: 'Bar' } })).status, 400);
  });

  it('refuses a date-time whose year in UTC is past 9999 (valid RFC 3339 with its offset) with 400, and takes 9999-12-31Z', async () => {
    const late = '9999-12-31T23:59:59-14:00';
    await refused('/orders/O2', dineIn('O2', { readyAt: late }), ['details.dineIn.readyAt']);
    await refused('/reservations/R1', { ...reservation, endTime: late }, ['endTime']);
    await refused('/parties/P1', { ...party, startTime: late }, ['startTime']);
    const body = await refused('/parties/P1', { ...party, startTime: '0001-01-01T00:30:00+01:00' }, ['startTime']);
    assert.match(body.fields[0].reason, /year in UTC is 1 to 9999/);
    const r = await venue('PUT', `${base}/parties/P1`, { body: { ...party, expectedEndTime: '9999-12-31T23:59:59Z' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const stored = await db.prisma.party.findFirstOrThrow({ where: { id: 'P1' } });
    assert.equal(stored.expectedEndTime!.toISOString(), '9999-12-31T23:59:59.000Z');
  });

  it('refuses an order of more than 1,000 items with 400 naming items (more than about 6,500 would not fit one statement), and takes 1,000', async () => {
    const withItems = (id: string, n: number) => {
      const o = sampleOrder(id, n) as any;
      o.items = Array.from({ length: n }, () => ({ name: 'x', plu: 'p', quantity: 1, amountPerItem: { value: 1, currencyCode: 'GBP' } }));
      return o;
    };
    const body = await refused('/orders/O3', withItems('O3', 6600), ['items']);
    assert.match(body.message, /6600 items; an order has at most 1000/);
    await refused('/orders/O3', withItems('O3', 1001), ['items']);
    const r = await venue('PUT', `${base}/orders/O3`, { body: withItems('O3', 1000) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await db.prisma.orderItem.count({ where: { orderId: 'O3' } }), 1000);
  });

  it('answers a PUT racing a DELETE of the same party or reservation with 200, 204 or 404, never 500', async () => {
    const rounds = 60;
    for (const [kind, body] of [['parties', party], ['reservations', reservation]] as const) {
      const statuses = new Map<number, number>();
      for (let i = 0; i < rounds; i++) {
        const path = `${base}/${kind}/race`;
        assert.equal((await venue('PUT', path, { body })).status, 200);
        const answers = await Promise.all([venue('PUT', path, { body }), venue('DELETE', path), venue('PUT', path, { body }), venue('DELETE', path)]);
        for (const a of answers) {
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
          assert.ok([200, 204, 404].includes(a.status), `${kind} round ${i}: ${a.status} ${JSON.stringify(a.body)}`);
        }
      }
      assert.ok(statuses.get(204)! > 0 && statuses.get(200)! > 0, `${kind}: ${JSON.stringify([...statuses])}`);
    }
  });

  it('refuses a table name with " - " at a Tables API venue only (its card machines show "<table> - <session>"), naming the field', async () => {
    const softwareHouseId = await newSoftwareHouse(stand.api, 'Old tills');
    const loc = await stand.api('POST', '/v1/locations', {
      body: { name: 'Old Tables Inn', softwareHouseId, dojoAccountId: `acctables_${Date.now()}`, protocol: 'dojo-tables', apiKey: '7d4773f2-367f-406c-881a-b4cb854971f3' },
    });
    assert.equal(loc.status, 201, JSON.stringify(loc.body));
    const tablesBase = `/venue/v1/locations/${loc.body.id}`;
    const tablesVenue = apiClient(admin.url, (await stand.api('POST', `/v1/locations/${loc.body.id}/venue-tokens`, { body: { name: 'till' } })).body.token);
    const r = await tablesVenue('PUT', `${tablesBase}/tables/t1`, { body: { name: 'Bar - 1' } });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.fields, [{ field: 'name', reason: 'must not contain " - " at a venue on the Tables API: its card machines show "<table name> - <session name>"' }]);
    assert.equal(await db.prisma.diningTable.count({ where: { locationId: loc.body.id } }), 0, 'nothing written');
    assert.equal((await tablesVenue('PUT', `${tablesBase}/tables/t1`, { body: { name: 'Bar-1 (window)' } })).status, 200, 'a hyphen without the spaces is fine');
    assert.equal((await venue('PUT', `${base}/tables/t-dash`, { body: { name: 'Bar - 1' } })).status, 200, 'EPOS Data has no such rule');
  });

  it('refuses a party ending before it starts, a deposit that is not money or not an object and an order modifier of a negative quantity', async () => {
    await refused('/parties/P2', { ...party, endTime: '2026-11-21T11:00:00.000Z' }, ['endTime']);
    await refused('/parties/P2', { ...party, expectedEndTime: '2026-11-21T11:59:59.000Z' }, ['expectedEndTime']);
    const deposit = { totalAmount: { value: -5000, currencyCode: 'XX' }, paymentIntentIds: [] };
    await refused('/parties/P2', { ...party, deposit }, ['deposit.totalAmount.value', 'deposit.totalAmount.currencyCode']);
    // The contract's PartyDeposit has no type: read as an object (scripts/generate-contracts.ts QUIRKS), any other JSON is refused.
    for (const shape of [[], 'abc', 5, true, null]) {
      const body = await refused('/parties/P2', { ...party, deposit: shape }, ['deposit']);
      assert.equal(body.fields[0].reason, 'must be object', JSON.stringify(shape));
    }
    const o = sampleOrder('O4') as any;
    o.items[0].modifiers[0].quantity = -3;
    o.items[0].subItems[0].modifiers = [{ name: 'Salt', plu: 'S', quantity: 0, amountPerModifier: { value: 0, currencyCode: 'GBP' } }];
    await refused('/orders/O4', o, ['items.0.modifiers.0.quantity', 'items.0.subItems.0.modifiers.0.quantity']);
    // A party may name a reservation the venue has not sent (yet): the POS owns both and may send them in any order.
    const r = await venue('PUT', `${base}/parties/P2`, {
      body: { ...party, endTime: party.startTime, reservationId: 'r-not-yet', deposit: { ...deposit, totalAmount: { value: 5000, currencyCode: 'GBP' } } },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  it("tells the POS Dojo's status when Dojo fails, but not Dojo's path, answer or our network error (those are logged)", async () => {
    assert.equal((await venue('PUT', `${base}/orders/O5`, { body: sampleOrder('O5') })).status, 200);
    const stop = dojo.respond((r) => (r.method === 'POST' && r.path.startsWith('/payment-intents') ? { status: 404, body: { title: 'merchant acc_secret_42 has no such route' } } : undefined));
    try {
      const r = await venue('POST', `${base}/orders/O5/payment-intents`, { body: {}, headers: { 'idempotency-key': 'k-dojo-fails' } });
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.deepEqual(r.body, { statusCode: 502, error: 'dojo_error', message: 'Dojo answered with HTTP 404', dojoStatus: 404, requestId: r.headers.get('x-request-id') });
    } finally {
      stop();
    }
  });
});
