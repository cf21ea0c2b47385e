import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { RunningApp } from '@app/common';
import { createLogger } from '@app/common';
import { VENUE_WAIT_BOUND_MS } from '@app/domain/repositories/venue-store';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, sleep, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { rpcJob } from '../worker/fixtures';
import { DojoStandIn } from './support/dojo-stand-in';
import type { Api } from './support/helpers';
import { apiClient, OPERATOR_TOKEN, sampleOrder, sandboxKey } from './support/helpers';

/**
 * The venue API's writes against a real Postgres, through the admin app as deployed: what an order's replace (PUT
 * /venue/v1/locations/{id}/orders/{id}) keeps and what it changes, writes of the same new order (party, reservation,
 * table) at once, a lock Dojo takes while a venue's PUT or DELETE of an order waits for it, and the deletes refused
 * for the money recorded against an order.
 */
describe('venue API writes', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let admin: RunningApp;
  let api: Api;
  let venue: Api;
  let locationId: string;
  let base: string;

  before(async () => {
    db = await createTestDatabase('venueorders');
    dojo = await new DojoStandIn().start();
    admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, DOJO_API_URL: dojo.url, QUEUE_PREFIX: uniquePrefix('venueorders') }));
    api = apiClient(admin.url);
    const sh = await api('POST', '/v1/software-houses', { body: { name: 'Tills', dojoSoftwareHouseId: `sh-vo-${Date.now()}` } });
    const loc = await api('POST', '/v1/locations', { body: { name: 'The Swan', softwareHouseId: sh.body.id, dojoAccountId: `acc_vo_${Date.now()}`, apiKey: sandboxKey() } });
    assert.equal(loc.status, 201, JSON.stringify(loc.body));
    locationId = loc.body.id;
    base = `/venue/v1/locations/${locationId}`;
    venue = apiClient(admin.url, (await api('POST', `/v1/locations/${locationId}/venue-tokens`, { body: { name: 'till' } })).body.token);
    assert.equal((await venue('PUT', `${base}/tables/t1`, { body: { name: 'T1' } })).status, 200);
  });

  after(async () => {
    await admin?.close();
    await dojo?.stop();
    await db?.drop();
  });

  const stored = (id: string) =>
    db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId, id } }, include: { items: { orderBy: { position: 'asc' } } } });
  /** Sessions of this database waiting for a lock (read outside any transaction: inside one, pg_stat_activity does not change). */
  const lockWaiters = async () =>
    (await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0]!.n;
  const events = (id: string) => db.prisma.outboxEvent.count({ where: { locationId, entityId: id, eventType: 'OrderUpdated' } });
  const newOrderOf = async (orderId: string) => assert.equal((await venue('PUT', `${base}/orders/${orderId}`, { body: sampleOrder(orderId) })).status, 200);

  it('stores a new order as sent, and a replace changes its items and fields but keeps its payments, origin and creation time', async () => {
    const two = sampleOrder('o-r', 3000) as any;
    two.items.push({ name: 'Cola', plu: 'C1', quantity: 1, amountPerItem: { value: 500, currencyCode: 'GBP' } });
    two.customer = { name: 'Ada' };
    two.note = 'window seat';
    let r = await venue('PUT', `${base}/orders/o-r`, { body: two });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { id: 'o-r', version: 1, created: true });
    const first = await stored('o-r');
    assert.equal(first.origin, 'pos');
    assert.equal(first.status, 'Accepted');
    assert.equal(first.tableId, 't1');
    assert.equal(first.waiterId, 'w1');
    assert.equal(first.totalAmount, 3000n);
    assert.equal(first.serviceChargeAmount, 300n);
    assert.deepEqual(first.customer, { name: 'Ada' });
    assert.equal(first.note, 'window seat');
    assert.deepEqual(
      first.items.map((i) => [i.position, i.name, i.quantity, i.amountPerItem]),
      [[0, 'Burger', 2, 1000n], [1, 'Cola', 1, 500n]],
    );
    assert.deepEqual(first.items[0]!.modifiers, two.items[0].modifiers);
    assert.deepEqual(first.items[0]!.subItems, two.items[0].subItems);
    assert.deepEqual(first.discounts, two.discounts);
    assert.deepEqual(first.taxLines, two.taxLines);

    // Dojo records a payment of 1,000 against it (the worker's path).
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger: createLogger('test', 'silent'), events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
    const paid = await dispatcher.handle(
      rpcJob(locationId, 'RecordOrderPaymentByIdV1', { orderId: 'o-r', paymentIntentId: 'pi_r', paidAmount: { value: 1000, currencyCode: 'GBP' }, tipsAmount: { value: 150, currencyCode: 'GBP' } }, { rpcId: 'rpc-r' }),
    );
    assert.ok('result' in paid, JSON.stringify(paid));
    const afterPayment = await stored('o-r');

    // The POS replaces it: one item fewer (as a different one), no customer, no note, another table-less total.
    const one = sampleOrder('o-r', 2600) as any;
    one.items[0].name = 'Veggie burger';
    one.items[0].quantity = 1;
    delete one.serviceChargeAmount;
    r = await venue('PUT', `${base}/orders/o-r`, { body: one });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { id: 'o-r', version: afterPayment.version + 1, created: false });
    const replaced = await stored('o-r');
    assert.equal(replaced.version, afterPayment.version + 1);
    assert.deepEqual(replaced.items.map((i) => [i.position, i.name, i.quantity]), [[0, 'Veggie burger', 1]]);
    assert.equal(replaced.customer, null);
    assert.equal(replaced.note, null);
    assert.equal(replaced.serviceChargeAmount, null);
    assert.equal(replaced.totalAmount, 2600n);
    assert.equal(replaced.paidAmount, 1000n, 'what was paid stays');
    assert.equal(replaced.tipsAmount, 150n, 'the tips stay');
    assert.equal(replaced.payable, true, 'partly paid: still payable');
    assert.equal(replaced.origin, 'pos');
    assert.equal(replaced.createdAt.getTime(), first.createdAt.getTime());
    assert.ok(replaced.updatedAt.getTime() >= afterPayment.updatedAt.getTime());
    assert.equal(await db.prisma.payment.count({ where: { locationId, orderId: 'o-r' } }), 1);

    // A total the payments already cover is not payable, whatever the POS says; nor is a closed order.
    r = await venue('PUT', `${base}/orders/o-r`, { body: sampleOrder('o-r', 1000) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await stored('o-r')).payable, false);
    r = await venue('PUT', `${base}/orders/o-r`, { body: { ...sampleOrder('o-r', 5000), status: 'Finalized' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await stored('o-r')).payable, false);
    r = await venue('PUT', `${base}/orders/o-r`, { body: { ...sampleOrder('o-r', 5000), payable: true } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await stored('o-r')).payable, true, 'open again with more to pay');
    // An open tab with nothing on it yet owes nothing: not payable until it has a total.
    r = await venue('PUT', `${base}/orders/o-empty`, { body: sampleOrder('o-empty', 0) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.created, true);
    assert.equal((await stored('o-empty')).payable, false);
    assert.equal(await events('o-r'), 6, 'one POS event per write (5) and one for the payment Dojo recorded');
  });

  /**
   * Runs `fn` with a second connection (another writer, e.g. Dojo's side) whose transaction holds the given rows of
   * this venue FOR UPDATE; `fn` commits or rolls it back, and whatever it leaves open ends with the connection.
   */
  const holdingRows = async <T,>(rows: { table: string; id: string }[], fn: (holder: Client) => Promise<T>): Promise<T> => {
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      for (const r of rows) await holder.query(`SELECT 1 FROM ${r.table} WHERE location_id = $1 AND id = $2 FOR UPDATE`, [locationId, r.id]);
      return await fn(holder);
    } finally {
      await holder.end();
    }
  };

  /**
   * Sends `n` PUTs at once while a row they all lock first is held (table t1's by default: each write that names the
   * table key-share-locks it first), so they all stop there and every one of them finds no row before any of them
   * writes (without the hold, the admin's one event loop tends to finish one write before the next one reads, and
   * nothing races). Their answers, in order.
   */
  const putAllAtOnce = (n: number, path: string, body: (i: number) => unknown, held = { table: 'dining_tables', id: 't1' }) =>
    holdingRows([held], async (hold) => {
      const pending = Promise.all(Array.from({ length: n }, (_, i) => venue('PUT', `${base}${path}`, { body: body(i) })));
      await waitFor(async () => (await lockWaiters()) >= n || undefined, 'every write waiting for the held row');
      await hold.query('ROLLBACK');
      return pending;
    });

  it('answers every PUT of a new order sent at once: one creates it, the others replace it in turn', async () => {
    const n = 6;
    const answers = await putAllAtOnce(n, '/orders/o-race', (i) => sampleOrder('o-race', 1000 + i));
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(answers.filter((a) => a.body.created).length, 1, 'exactly one created it');
    assert.deepEqual(answers.map((a) => a.body.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
    const last = answers.find((a) => a.body.version === n)!;
    const order = await stored('o-race');
    assert.equal(order.version, n);
    assert.equal(order.totalAmount, BigInt(1000 + answers.indexOf(last)), 'the last write answered is the one stored');
    assert.equal(order.items.length, 1);
    assert.equal(await events('o-race'), n);
  });

  it('a PUT with If-Match writes only over the version it names: two tills editing the same version, one wins, the other gets 412', async () => {
    const first = await venue('PUT', `${base}/orders/o-if`, { body: sampleOrder('o-if', 2500) });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('etag'), '"1"');
    const read = await venue('GET', `${base}/orders/o-if`);
    assert.equal(read.headers.get('etag'), '"1"');
    // Both tills read version 1 and send their edit at once: exactly one is written.
    const edits = await Promise.all([2600, 2700].map((total) => venue('PUT', `${base}/orders/o-if`, { body: sampleOrder('o-if', total), headers: { 'if-match': '"1"' } })));
    assert.deepEqual(edits.map((e) => e.status).sort(), [200, 412], JSON.stringify(edits.map((e) => e.body)));
    const lost = edits.find((e) => e.status === 412)!;
    assert.equal(lost.body.error, 'version_mismatch');
    assert.equal(lost.body.version, 2, 'says the stored version');
    const won = edits.find((e) => e.status === 200)!;
    assert.equal(won.headers.get('etag'), '"2"');
    assert.equal((await stored('o-if')).version, 2);
    assert.equal(await events('o-if'), 2, 'the refused write told Dojo nothing');
    // Read again, apply the change, send with the new version: written.
    assert.equal((await venue('PUT', `${base}/orders/o-if`, { body: sampleOrder('o-if', 2800), headers: { 'if-match': '2' } })).status, 200);
    // * only over an order that exists; a malformed If-Match is a 400.
    assert.equal((await venue('PUT', `${base}/orders/o-if`, { body: sampleOrder('o-if', 2800), headers: { 'if-match': '*' } })).status, 200);
    const none = await venue('PUT', `${base}/orders/o-if-new`, { body: sampleOrder('o-if-new', 2800), headers: { 'if-match': '*' } });
    assert.equal(none.status, 412);
    assert.equal(await db.prisma.order.count({ where: { locationId, id: 'o-if-new' } }), 0);
    for (const bad of ['W/"3"', '"3", "4"', 'three', '"0"']) {
      const r = await venue('PUT', `${base}/orders/o-if`, { body: sampleOrder('o-if', 2800), headers: { 'if-match': bad } });
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.fields[0].field, 'If-Match');
    }
  });

  it('a conditional PUT retried after its answer was lost is answered as made (RFC 9110 §13.1.1), not 412; a different body still gets 412', async () => {
    const edit = (total: number) => ({
      ...sampleOrder('o-retry', total),
      // Keys in an order jsonb does not keep, a time with a zone offset, a customer: compared as stored, not as sent.
      customer: { phoneNumber: '+441234567890', id: 'c-1', emailAddress: 'ann@example.com' },
      details: { orderType: 'DineIn', dineIn: { waiterId: 'w1', tableId: 't1', readyAt: '2026-12-04T20:30:00+01:00' } },
    });
    assert.equal((await venue('PUT', `${base}/orders/o-retry`, { body: edit(2500) })).status, 200);
    const first = await venue('PUT', `${base}/orders/o-retry`, { body: edit(2600), headers: { 'if-match': '"1"' } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.headers.get('etag'), '"2"');
    // The answer was lost; the till sends the same request again.
    const retried = await venue('PUT', `${base}/orders/o-retry`, { body: edit(2600), headers: { 'if-match': '"1"' } });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.deepEqual(retried.body, { id: 'o-retry', version: 2, created: false, unchanged: true });
    assert.equal(retried.headers.get('etag'), '"2"');
    assert.equal((await stored('o-retry')).version, 2, 'nothing written again');
    assert.equal(await events('o-retry'), 2, 'Dojo was not told twice');
    // Another till's edit of version 1 differs from what is stored (one field, one item's modifier, the customer): 412.
    const item = edit(2600).items[0]!;
    for (const other of [
      edit(2700),
      { ...edit(2600), note: 'no onions' },
      { ...edit(2600), items: [{ ...item, modifiers: [{ ...item.modifiers[0]!, quantity: 2 }] }] },
      { ...edit(2600), customer: { id: 'c-1' } },
      { ...edit(2600), payable: false },
    ]) {
      const r = await venue('PUT', `${base}/orders/o-retry`, { body: other, headers: { 'if-match': '"1"' } });
      assert.equal(r.status, 412, JSON.stringify(other));
      assert.equal(r.body.version, 2);
    }
    assert.equal((await stored('o-retry')).version, 2);
    // If-Match * has nothing to compare: it holds for any stored order and writes.
    assert.equal((await venue('PUT', `${base}/orders/o-retry`, { body: edit(2600), headers: { 'if-match': '*' } })).body.version, 3);
  });

  it('answers every PUT of a new party or reservation sent at once: one creates it, the others replace it in turn', async () => {
    const n = 4;
    const party = (i: number) => ({ tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers: 2 + i });
    const reservation = (i: number) => ({ name: `Smith ${i}`, covers: 2 + i, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['t1'] });
    for (const [path, body, event, readRow] of [
      ['/parties/p-race', party, 'PartyUpdated', () => db.prisma.party.findUniqueOrThrow({ where: { locationId_id: { locationId, id: 'p-race' } } })],
      ['/reservations/r-race', reservation, 'ReservationUpdated', () => db.prisma.reservation.findUniqueOrThrow({ where: { locationId_id: { locationId, id: 'r-race' } } })],
    ] as const) {
      const answers = await putAllAtOnce(n, path, body);
      for (const a of answers) assert.equal(a.status, 200, `${path}: ${JSON.stringify(a.body)}`);
      assert.equal(answers.filter((a) => a.body.created).length, 1, `${path}: exactly one created it`);
      assert.deepEqual(answers.map((a) => a.body.version).sort((a, b) => a - b), [1, 2, 3, 4], path);
      const row = await readRow();
      assert.equal(row.version, n, path);
      assert.equal(row.covers, 2 + answers.findIndex((a) => a.body.version === n), `${path}: the last write answered is the one stored`);
      assert.equal(await db.prisma.outboxEvent.count({ where: { locationId, entityId: path.split('/')[2], eventType: event } }), n, path);
    }
  });

  it("a replace of a party or reservation Dojo created keeps the guest's requests, and the party's deposit when the body has none", async () => {
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger: createLogger('test', 'silent'), events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
    const dojoCreates = async (method: 'CreatePartyV1' | 'CreateReservationV1', params: object) => {
      const res = await dispatcher.handle(rpcJob(locationId, method, params));
      assert.ok('result' in res, JSON.stringify(res));
      return (res.result as { id: string }).id;
    };
    const deposit = { totalAmount: { value: 2000, currencyCode: 'GBP' }, paymentIntentIds: ['pi_dep'], description: 'Sunday lunch' };
    const partyId = await dojoCreates('CreatePartyV1', {
      dojoPartyId: 'dp-guest', tableIds: ['t1'], startTime: '2026-11-21T12:00:00.000Z', covers: 2, guestRequests: 'nut allergy', deposit,
    });
    const reservationId = await dojoCreates('CreateReservationV1', {
      dojoReservationId: 'dr-guest', name: 'Ada', covers: 2, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['t1'], guestRequests: 'a quiet corner',
    });
    const party = () => db.prisma.party.findUniqueOrThrow({ where: { locationId_id: { locationId, id: partyId } } });
    const reservation = () => db.prisma.reservation.findUniqueOrThrow({ where: { locationId_id: { locationId, id: reservationId } } });
    const put = async (path: string, body: object) => {
      const r = await venue('PUT', `${base}${path}`, { body });
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.created, false, path);
    };

    // The POS seats the party (without the guest's requests or the deposit in its body), then edits the reservation.
    const seated = { tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers: 3, hostNotes: 'regulars' };
    await put(`/parties/${partyId}`, seated);
    let p = await party();
    assert.deepEqual([p.covers, p.hostNotes, p.guestRequests, p.deposit], [3, 'regulars', 'nut allergy', deposit]);
    const booked = { name: 'Ada L.', covers: 4, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['t1'] };
    await put(`/reservations/${reservationId}`, booked);
    let r = await reservation();
    assert.deepEqual([r.name, r.covers, r.guestRequests], ['Ada L.', 4, 'a quiet corner']);

    // A body that carries other guest requests (an older copy, or an edit the EPOS may not make) is taken, but not them.
    await put(`/parties/${partyId}`, { ...seated, guestRequests: 'none' });
    await put(`/reservations/${reservationId}`, { ...booked, guestRequests: 'none' });
    assert.equal((await party()).guestRequests, 'nut allergy');
    assert.equal((await reservation()).guestRequests, 'a quiet corner');

    // A body with a deposit replaces it.
    const other = { totalAmount: { value: 3000, currencyCode: 'GBP' }, paymentIntentIds: ['pi_dep', 'pi_dep2'] };
    await put(`/parties/${partyId}`, { ...seated, deposit: other });
    p = await party();
    assert.deepEqual([p.deposit, p.guestRequests, p.dojoPartyId], [other, 'nut allergy', 'dp-guest']);
    r = await reservation();
    assert.equal(r.dojoReservationId, 'dr-guest');

    // A party the POS creates takes the body's guest requests.
    const created = await venue('PUT', `${base}/parties/p-walk-in`, { body: { ...seated, guestRequests: 'high chair' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal((await db.prisma.party.findUniqueOrThrow({ where: { locationId_id: { locationId, id: 'p-walk-in' } } })).guestRequests, 'high chair');
  });

  it('answers every PUT of a new table sent at once with exactly one created', async () => {
    assert.equal((await venue('PUT', `${base}/areas/a-race`, { body: { name: 'Bar' } })).status, 200);
    // Each insert checks its area (a key-share lock on it): holding the area's row stops the first one there, and the
    // others wait behind its insert of the same key.
    const n = 4;
    const answers = await putAllAtOnce(n, '/tables/t-race', (i) => ({ name: `T${i}`, areaId: 'a-race', maxCovers: 2 + i }), { table: 'areas', id: 'a-race' });
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(answers.filter((a) => a.body.created).length, 1, 'exactly one created it');
    const table = await db.prisma.diningTable.findUniqueOrThrow({ where: { locationId_id: { locationId, id: 't-race' } } });
    assert.equal(table.areaId, 'a-race');
    const again = await venue('PUT', `${base}/tables/t-race`, { body: { name: 'Window', waiterIds: ['w2'] } });
    assert.deepEqual(again.body, { id: 't-race', created: false });
    const replaced = await db.prisma.diningTable.findUniqueOrThrow({ where: { locationId_id: { locationId, id: 't-race' } } });
    assert.deepEqual([replaced.name, replaced.areaId, replaced.maxCovers, replaced.waiterIds], ['Window', null, null, ['w2']]);
    assert.ok(replaced.updatedAt.getTime() >= table.updatedAt.getTime());
    const unknownArea = await venue('PUT', `${base}/tables/t-race`, { body: { name: 'Window', areaId: 'nope' } });
    assert.equal(unknownArea.status, 400, JSON.stringify(unknownArea.body));
    assert.equal(unknownArea.body.fields[0].field, 'areaId');
  });

  it('refuses a write that waited for the order while Dojo locked it, and deletes only an unlocked order', async () => {
    assert.equal((await venue('PUT', `${base}/orders/o-wait`, { body: sampleOrder('o-wait') })).status, 200);
    // Dojo's lock is taken under the order's row lock (as the worker does); the venue's write waits for that row.
    await holdingRows([{ table: 'orders', id: 'o-wait' }], async (dojoSide) => {
      const expiresAt = new Date(Date.now() + 60_000);
      const put = venue('PUT', `${base}/orders/o-wait`, { body: sampleOrder('o-wait', 900) });
      const del = venue('DELETE', `${base}/orders/o-wait`);
      await waitFor(async () => (await lockWaiters()) >= 2 || undefined, 'both writes waiting for the row');
      await dojoSide.query(`INSERT INTO order_locks (location_id, order_id, lock_id, expires_at, created_at, updated_at) VALUES ($1, $2, 'lk-w', $3, now(), now())`, [
        locationId,
        'o-wait',
        expiresAt,
      ]);
      await sleep(50);
      await dojoSide.query('COMMIT');
      const [p, d] = await Promise.all([put, del]);
      assert.equal(p.status, 409, JSON.stringify(p.body));
      assert.equal(p.body.lockExpiresAt, expiresAt.toISOString());
      assert.equal(d.status, 409, JSON.stringify(d.body));
    });
    const kept = await stored('o-wait');
    assert.equal(kept.totalAmount, 2500n, 'nothing written');
    assert.equal(kept.version, 1);
    assert.equal(await events('o-wait'), 1, 'no POS event for a refused write');

    await db.prisma.orderLock.delete({ where: { locationId_orderId: { locationId, orderId: 'o-wait' } } });
    assert.equal((await venue('DELETE', `${base}/orders/o-wait`)).status, 204);
    assert.equal(await db.prisma.order.count({ where: { locationId, id: 'o-wait' } }), 0);
    assert.equal(await db.prisma.orderItem.count({ where: { locationId, orderId: 'o-wait' } }), 0);
    assert.equal(await events('o-wait'), 2, 'the delete is announced to Dojo');
    const gone = await venue('DELETE', `${base}/orders/o-wait`);
    assert.equal(gone.status, 404, JSON.stringify(gone.body));
  });

  // Without the bound the writes would wait as long as the holder holds: the timeout makes that a failure, not a hang.
  it('gives up waiting for a row another transaction holds too long: 503 busy with Retry-After, nothing written', { timeout: 20_000 }, async () => {
    await newOrderOf('o-held');
    await holdingRows([{ table: 'orders', id: 'o-held' }, { table: 'dining_tables', id: 't1' }], async () => {
      const started = Date.now();
      const [put, del, party, intent, table] = await Promise.all([
        venue('PUT', `${base}/orders/o-held`, { body: sampleOrder('o-held', 900) }),
        venue('DELETE', `${base}/orders/o-held`),
        // A party's insert checks its table (a key-share lock, which waits for the held row): the Prisma transaction path.
        venue('PUT', `${base}/parties/p-held`, { body: { tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers: 2 } }),
        // A payment intent's claim locks the order's row before Dojo is called.
        venue('POST', `${base}/orders/o-held/payment-intents`, { body: {}, headers: { 'idempotency-key': 'k-held' } }),
        // A replace of the held table.
        venue('PUT', `${base}/tables/t1`, { body: { name: 'T1 (window)' } }),
      ]);
      const waited = Date.now() - started;
      for (const r of [put, del, party, intent, table]) {
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.equal(r.body.error, 'busy');
        assert.equal(r.headers.get('retry-after'), '1');
      }
      // Each gives up after the bound, however many wait for the same row (lock_timeout, bounding each lock wait alone,
      // let the payment intent's claim, queued behind the other waiters, wait twice: 4 s).
      assert.ok(waited >= VENUE_WAIT_BOUND_MS - 50 && waited < VENUE_WAIT_BOUND_MS + 1_000, `gave up after ${waited} ms`);
    });
    const kept = await stored('o-held');
    assert.deepEqual([kept.version, kept.totalAmount], [1, 2500n], 'nothing written');
    assert.equal(await events('o-held'), 1, 'no POS event');
    assert.equal(await db.prisma.party.count({ where: { locationId, id: 'p-held' } }), 0);
    assert.equal(await db.prisma.paymentIntent.count({ where: { locationId, orderId: 'o-held' } }), 0);
    assert.equal(dojo.find((r) => r.path.startsWith('/payment-intents')).length, 0, 'Dojo was not called');
    assert.equal((await db.prisma.diningTable.findUniqueOrThrow({ where: { locationId_id: { locationId, id: 't1' } } })).name, 'T1');
    // Released: the same requests go through.
    assert.equal((await venue('PUT', `${base}/orders/o-held`, { body: sampleOrder('o-held', 900) })).status, 200);
    assert.equal((await venue('DELETE', `${base}/orders/o-held`)).status, 204);
  });

  it('lets a replace move an order to another currency only while no money is recorded against it', async () => {
    const inEur = (id: string) => JSON.parse(JSON.stringify(sampleOrder(id)).replaceAll('"GBP"', '"EUR"'));
    await newOrderOf('o-cur');
    let r = await venue('PUT', `${base}/orders/o-cur`, { body: inEur('o-cur') });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await stored('o-cur')).currency, 'EUR', 'nothing paid yet: the POS may correct it');
    assert.equal((await venue('PUT', `${base}/orders/o-cur`, { body: sampleOrder('o-cur') })).status, 200);
    // A checkout link for it, in GBP: the order's currency is now fixed.
    await db.prisma.paymentIntent.create({
      data: { locationId, id: randomUUID(), paymentIntentId: 'pi_cur', orderId: 'o-cur', idempotencyKey: 'k-cur', requestHash: 'h', amount: 2500n, currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status: 'Created' },
    });
    r = await venue('PUT', `${base}/orders/o-cur`, { body: inEur('o-cur') });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.error, 'order_currency_fixed');
    assert.equal(r.body.currency, 'GBP');
    assert.match(r.body.message, /is in GBP and has 1 payment intent in it, so it cannot change to EUR/);
    const kept = await stored('o-cur');
    assert.deepEqual([kept.currency, kept.version], ['GBP', 3], 'nothing written');
    assert.equal((await venue('PUT', `${base}/orders/o-cur`, { body: sampleOrder('o-cur', 3000) })).status, 200, 'a replace in its own currency goes through');
  });

  it('refuses to delete a table an open order names (409 table_in_use), and a replace keeps a table deleted since', async () => {
    const at = (orderId: string, tableId: string, status = 'Accepted') => {
      const o = sampleOrder(orderId) as any;
      o.details.dineIn.tableId = tableId;
      o.status = status;
      return o;
    };
    const put = (path: string, body: unknown) => venue('PUT', `${base}${path}`, { body });
    assert.equal((await put('/tables/t-del', { name: 'Patio' })).status, 200);
    assert.equal((await put('/orders/o-del1', at('o-del1', 't-del'))).status, 200);
    assert.equal((await put('/orders/o-del2', at('o-del2', 't-del'))).status, 200);
    assert.equal((await put('/orders/o-del3', at('o-del3', 't-del', 'Finalized'))).status, 200);
    const party = { tableIds: ['t-del'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers: 2 };
    const reservation = { name: 'Smith', covers: 2, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['t-del'] };
    assert.equal((await put('/parties/p-del', party)).status, 200);
    assert.equal((await put('/reservations/r-del', reservation)).status, 200);

    // Two open orders name it (the closed one does not count): refused, the table kept.
    let d = await venue('DELETE', `${base}/tables/t-del`);
    assert.equal(d.status, 409, JSON.stringify(d.body));
    assert.equal(d.body.error, 'table_in_use', JSON.stringify(d.body));
    assert.equal(d.body.openOrders, 2);
    assert.match(d.body.message, /2 open orders/);
    assert.equal(await db.prisma.diningTable.count({ where: { locationId, id: 't-del' } }), 1);

    // One moves to another table, the other is closed: the delete goes ahead (the party and reservation do not hold it).
    assert.equal((await put('/orders/o-del1', at('o-del1', 't1'))).status, 200);
    assert.equal((await put('/orders/o-del2', at('o-del2', 't-del', 'Canceled'))).status, 200);
    d = await venue('DELETE', `${base}/tables/t-del`);
    assert.equal(d.status, 204, JSON.stringify(d.body));
    assert.equal((await venue('DELETE', `${base}/tables/t-del`)).status, 404);

    // What already named it can be replaced still naming it: closed orders (a POS can always close an order), the party and the reservation.
    for (const [path, body] of [
      ['/orders/o-del2', at('o-del2', 't-del', 'Finalized')],
      ['/orders/o-del3', at('o-del3', 't-del', 'Finalized')],
      ['/parties/p-del', { ...party, endTime: '2026-11-21T14:00:00.000Z' }],
      ['/reservations/r-del', { ...reservation, covers: 3 }],
    ] as const) {
      const r = await put(path, body);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    }
    assert.equal((await stored('o-del2')).status, 'Finalized');
    // Newly naming it is refused: another order, a closed order opened again there, the first order moving back, a new party.
    for (const [path, body, field] of [
      ['/orders/o-del4', at('o-del4', 't-del'), 'details.dineIn.tableId'],
      ['/orders/o-del3', at('o-del3', 't-del'), 'details.dineIn.tableId'],
      ['/orders/o-del1', at('o-del1', 't-del'), 'details.dineIn.tableId'],
      ['/parties/p-del2', party, 'tableIds.0'],
      ['/parties/p-del', { ...party, tableIds: ['t-del', 't-gone'] }, 'tableIds.1'],
    ] as const) {
      const r = await put(path, body);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.fields.map((f: { field: string }) => f.field), [field], path);
    }
  });

  it('refuses a table delete that waited for an order write naming the table, once that order is open there', async () => {
    assert.equal((await venue('PUT', `${base}/tables/t-race-del`, { body: { name: 'Bar 2' } })).status, 200);
    const o = sampleOrder('o-race-del') as any;
    o.details.dineIn.tableId = 't-race-del';
    assert.equal((await venue('PUT', `${base}/orders/o-race-del`, { body: { ...o, status: 'Finalized' } })).status, 200);
    // The order's PUT (opening it again) takes its table's key-share lock, then waits for the order's row; the delete
    // then waits for the table's row, and must count the order the PUT opened there.
    await holdingRows([{ table: 'orders', id: 'o-race-del' }], async (holder) => {
      const put = venue('PUT', `${base}/orders/o-race-del`, { body: o });
      await waitFor(async () => (await lockWaiters()) >= 1 || undefined, 'the order write waiting for its row');
      const del = venue('DELETE', `${base}/tables/t-race-del`);
      await waitFor(async () => (await lockWaiters()) >= 2 || undefined, 'the delete waiting for the table');
      await holder.query('ROLLBACK');
      const [p, d] = await Promise.all([put, del]);
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.equal(d.status, 409, JSON.stringify(d.body));
      assert.equal(d.body.openOrders, 1);
    });
    assert.equal(await db.prisma.diningTable.count({ where: { locationId, id: 't-race-del' } }), 1);
  });

  it('refuses to delete an order with money recorded against it, a payment that came while the delete waited included', async () => {
    const refusedDelete = async (orderId: string) => {
      const r = await venue('DELETE', `${base}/orders/${orderId}`);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.error, 'order_has_payments', JSON.stringify(r.body));
      return r.body;
    };

    // A payment Dojo records while the venue's delete waits for the order's row: the delete reads it once it holds the row.
    await newOrderOf('o-paid');
    await holdingRows([{ table: 'orders', id: 'o-paid' }], async (dojoSide) => {
      const del = venue('DELETE', `${base}/orders/o-paid`);
      await waitFor(async () => (await lockWaiters()) >= 1 || undefined, 'the delete waiting for the row');
      await dojoSide.query(
        `INSERT INTO payments (location_id, payment_intent_id, order_id, currency, paid_amount, tips_amount, updated_at) VALUES ($1, 'pi_paid', 'o-paid', 'GBP', 1000, 100, now())`,
        [locationId],
      );
      await dojoSide.query('COMMIT');
      const d = await del;
      assert.equal(d.status, 409, JSON.stringify(d.body));
      assert.equal(d.body.error, 'order_has_payments');
      assert.equal(d.body.payments, 1);
      assert.equal(d.body.paymentIntents, 0);
      assert.equal(d.body.counterSaleRunning, false);
      assert.match(d.body.message, /cannot be deleted: it has 1 payment, .*Finalized or Canceled/);
    });
    assert.equal((await stored('o-paid')).version, 1, 'the order is kept');
    assert.equal(await db.prisma.payment.count({ where: { locationId, orderId: 'o-paid' } }), 1, 'and its payment');
    assert.equal(await events('o-paid'), 1, 'no POS event for a refused delete');
    // Closing it is what the venue does instead.
    assert.equal((await venue('PUT', `${base}/orders/o-paid`, { body: { ...sampleOrder('o-paid'), status: 'Canceled' } })).status, 200);
    await refusedDelete('o-paid');

    // A payment intent of any status (a checkout link may still be paid), with the payment it took.
    await newOrderOf('o-online');
    await db.prisma.paymentIntent.create({
      data: { locationId, id: randomUUID(), paymentIntentId: 'pi_online', orderId: 'o-online', idempotencyKey: 'k-online', requestHash: 'h', amount: 2500n, currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status: 'Created' },
    });
    let body = await refusedDelete('o-online');
    assert.deepEqual([body.payments, body.paymentIntents], [0, 1]);
    await db.prisma.payment.create({ data: { locationId, paymentIntentId: 'pi_online', orderId: 'o-online', currency: 'GBP', paidAmount: 2500n } });
    body = await refusedDelete('o-online');
    assert.deepEqual([body.payments, body.paymentIntents], [1, 1]);
    assert.match(body.message, /it has 1 payment and 1 payment intent,/);

    // A counter sale running against it refuses the delete; once it ended without taking money, the delete goes ahead.
    await newOrderOf('o-counter');
    const sale = await db.prisma.counterTransaction.create({
      data: { id: randomUUID(), locationId, idempotencyKey: 'k-counter', requestHash: 'h', kind: 'sale', tid: 'VT-1', amount: 2500n, currency: 'GBP', orderId: 'o-counter', state: 'sent', expiresAt: new Date(Date.now() + 60_000) },
    });
    body = await refusedDelete('o-counter');
    assert.deepEqual([body.payments, body.paymentIntents, body.counterSaleRunning], [0, 0, true]);
    await db.prisma.counterTransaction.update({ where: { id: sale.id }, data: { state: 'finished', result: 'DECLINED' } });
    assert.equal((await venue('DELETE', `${base}/orders/o-counter`)).status, 204);
    assert.equal(await db.prisma.order.count({ where: { locationId, id: 'o-counter' } }), 0);
  });
});
