/**
 * Connect PAT end to end: the sandbox's /pat endpoint dialled by two real
 * gateway replicas (child processes), answered by a real worker through the
 * queue and Postgres. The exact URI, the pay-at-table flow, every edge
 * refusal answered on a socket that stays open, notifications, ids echoed
 * under concurrency, a lock shared with the EPOS Data dialect, one link per
 * location across replicas, a replaced link told apart from a network drop,
 * and the token in no log line.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConnectPat } from '@app/contracts';
import type { PatCallReply } from '@app/dojo-sandbox';
import { DojoSandbox } from '@app/dojo-sandbox';
import { RpcClient } from '@app/queue';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { AppProcess } from '../../support/app-processes';
import { killApps, spawnApps } from '../../support/app-processes';

const TOKEN = `pat-token-${randomUUID()}`;
const C = ConnectPat.PAT_ERROR_CODES;

describe('Connect PAT through the real gateway, queue and Postgres', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let sim: DojoSandbox;
  let apps: AppProcess[] = [];
  let locationId: string;
  let accountId: string;
  let prefix: string;
  const sandboxLog: string[] = [];

  const call = (method: string, params: object, id?: string | number) => sim.pat.call(accountId, method, params, id === undefined ? {} : { id });
  const result = (r: PatCallReply | null): any => {
    assert.ok(r && 'result' in r, `expected a result, got ${JSON.stringify(r)}`);
    return r.result;
  };
  const status = async () => {
    const gws = apps.filter((a) => a.name === 'gateway');
    for (const g of gws) {
      const s = (await (await fetch(`${g.url}/status`)).json()) as { locations: { locationId: string; state: string }[] };
      const link = s.locations.find((l) => l.locationId === locationId && l.state !== 'disabled');
      if (link) return link as Record<string, any>;
    }
    return undefined;
  };

  before(async () => {
    db = await createTestDatabase('connect_pat_gw');
    fx = fixtures(db.prisma);
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 200, callTimeoutMs: 8_000 });
    const sh = await fx.softwareHouse();
    const shRow = await db.prisma.softwareHouse.findUniqueOrThrow({ where: { id: sh.id } });
    const loc = await fx.location({
      softwareHouseId: sh.id,
      apiKey: TOKEN,
      protocol: 'connect-pat',
      registrationState: 'not_required',
      protocolSettings: { hostAddress: 'testhost', environment: 'test', installerId: 'INST-1', finalPosReceiptRequest: true },
    });
    locationId = loc.id;
    const row = await db.prisma.location.update({ where: { id: locationId }, data: { wsUrl: sim.patUrl } });
    accountId = row.dojoAccountId;
    sim.addAccount({ apiKey: TOKEN, softwareHouseId: shRow.dojoSoftwareHouseId, accountId });
    for (const id of ['T1', 'T2', 'T3']) await fx.table(locationId, { id, name: `Table ${id}` });
    await fx.order(locationId, { id: 'o1', total: 1000, tableId: 'T1' });
    await fx.order(locationId, { id: 'o2', total: 600, tableId: 'T1' });
    await fx.order(locationId, { id: 'o3', total: 900, tableId: 'T2' });
    await fx.table(locationId, { id: 'T4', name: 'Table T4' });
    await fx.order(locationId, { id: 'o4', total: 800, tableId: 'T4' });
    prefix = uniquePrefix('patgw');
    // Leases of 8 s: nothing here waits for one to expire, and with 2 s a replica starved of CPU for that long (the
    // whole suite runs on two cores) lost its lease with its socket still open, so the other replica's dial took the
    // site over ("Connection Discontinued"), which the replicas test below rightly counts as a failure.
    const env = (name: string) =>
      appEnv(db, { QUEUE_PREFIX: prefix, LOG_LEVEL: 'debug', GATEWAY_REPLICA_ID: `${name}-${randomUUID().slice(0, 6)}`, GATEWAY_PING_INTERVAL_MS: '300', GATEWAY_LEASE_TTL_MS: '8000' });
    apps = await spawnApps(['gateway', 'gateway', 'worker'], env);
    // Both replicas see each other, and the location's link has settled on the one that owns it.
    await waitFor(async () => {
      const members = await Promise.all(apps.filter((a) => a.name === 'gateway').map(async (g) => ((await (await fetch(`${g.url}/status`)).json()) as { members: string[] }).members.length));
      return members.every((n) => n === 2);
    }, 'both gateway replicas are members', 30_000);
    await waitFor(async () => (await status())?.state === 'open' && sim.pat.routed(accountId) !== undefined, 'the owner links /pat', 30_000);
  });

  after(async () => {
    await killApps(apps);
    await sim?.close();
    await db?.drop();
  });

  it('dials the exact URI: token, api-version=v1, software-house-id, installer-id and the bare final-receipt flag', async () => {
    const shRow = await db.prisma.softwareHouse.findFirstOrThrow();
    const ok = sim.pat.handshakes.filter((h) => h.status === 101);
    assert.ok(ok.length >= 1);
    assert.equal(ok[0]!.rawUrl, `/pat?token=${TOKEN}&api-version=v1&software-house-id=${shRow.dojoSoftwareHouseId}&installer-id=INST-1&final-pos-receipt-request`);
    // Connect's pings are answered (the sandbox terminates a socket that leaves one unanswered for three intervals).
    await waitFor(() => (sim.pat.routed(accountId)?.pongsReceived ?? 0) >= 2, 'pings answered');
  });

  it('runs the pay-at-table flow for the connect-pat location, and the orders are paid and unlocked', async () => {
    const flow = await sim.runFlow('pay-at-table', { accountId, tableId: 'T1' });
    assert.equal(flow.status, 'SUCCESS', JSON.stringify(flow.steps, null, 1));
    const orders = await db.prisma.order.findMany({ where: { locationId, tableId: 'T1' }, orderBy: { id: 'asc' } });
    assert.deepEqual(orders.map((o) => [o.id, o.paidAmount, o.payable]), [['o1', 1000n, false], ['o2', 600n, false]]);
    assert.equal(await db.prisma.orderLock.count({ where: { locationId } }), 0);
  });

  it('answers what it cannot parse with errorMessage, keeps the socket open, and ignores Connect errorMessages', async () => {
    const conn = sim.pat.routed(accountId)!;
    const before = conn.notices.length;
    sim.pat.sendRaw(accountId, '{"jsonrpc":"2.0","id":');
    sim.pat.sendRaw(accountId, JSON.stringify({ jsonrpc: '2.0', method: 'errorMessage', params: { code: 12, message: 'terminal unavailable' } }));
    await waitFor(() => conn.notices.length > before, 'the parse error is answered');
    assert.deepEqual((conn.notices.at(-1) as any).params.code, C.parseError);
    assert.equal((conn.notices.at(-1) as any).method, 'errorMessage');
    const bad = await call('tableLockRequest', {}, 'bad-1');
    assert.ok(bad && 'error' in bad && bad.error.code === C.invalidParams && /params\.tableId/.test(bad.error.message), JSON.stringify(bad));
    const unknown = await call('sale', {}, 'bad-2');
    assert.ok(unknown && 'error' in unknown && unknown.error.code === C.methodNotFound);
    const missing = await call('tableLockRequest', { tableId: 'T9' }, 'bad-3');
    assert.ok(missing && 'error' in missing && missing.error.code === C.tableNotFound);
    assert.equal(sim.pat.routed(accountId), conn, 'the same socket is still served');
    // A notification: its success is not answered; its refusal is an errorMessage notification naming the message.
    await sim.pat.call(accountId, 'tableUnlock', { tableId: 'T2' }, { notify: true });
    await sim.pat.call(accountId, 'transactionResponse', { tableId: 'T9', currency: 'GBP', payments: [{ paymentId: 'n1', amountPaid: 1 }] }, { notify: true });
    await waitFor(() => conn.notices.some((n: any) => n.params?.method === 'transactionResponse'), 'the refused notification is answered');
    assert.equal(conn.notices.filter((n: any) => n.params?.method === 'tableUnlock').length, 0);
  });

  it("handles a location's messages in arrival order: a receipt asked right after a payment notification shows the payment", async () => {
    // The payment goes to a worker through the queue; the receipt is a read the gateway answers itself, so without
    // the line it overtakes the payment and prints the whole bill as due.
    const conn = sim.pat.routed(accountId)!;
    const notices = conn.notices.length;
    await sim.pat.call(accountId, 'transactionResponse', { tableId: 'T4', tid: 'TID4', currency: 'GBP', payments: [{ paymentId: 'inline-1', amountPaid: 800 }] }, { notify: true });
    const texts = (result(await call('finalPOSReceiptRequest', { tableId: 'T4', tid: 'TID4' })).receiptLines as ConnectPat.ReceiptLine[]).map((l) => l.value ?? '');
    assert.ok(texts.some((t) => /^Card payment +£8\.00$/.test(t)), texts.join('\n'));
    assert.ok(texts.includes('PAID IN FULL'), texts.join('\n'));
    assert.equal(conn.notices.length, notices, 'the payment notification was not refused');
    assert.equal((await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId, id: 'o4' } } })).paidAmount, 800n);
  });

  it('serves requests concurrently, echoing string and number ids exactly', async () => {
    const ids: (string | number)[] = Array.from({ length: 24 }, (_, i) => (i % 2 ? i : `s-${i}`));
    const replies = await Promise.all(ids.map((id) => call('tableListRequest', {}, id)));
    replies.forEach((r, i) => {
      assert.strictEqual(r!.id, ids[i]);
      assert.deepEqual(result(r), { tables: ['T2'], currency: 'GBP' });
    });
  });

  it('a table lock is the EPOS Data order lock: the other dialect is refused the same order', async () => {
    assert.equal(result(await call('tableLockRequest', { tableId: 'T2', tid: 'TID1' })).confirmed, true);
    const link = await status();
    const client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'test-epos' });
    await client.start();
    try {
      const res = await client.call({
        locationId,
        dialect: 'epos-data',
        method: 'CreateOrderLockV1',
        mutates: true,
        rpcId: `e-${randomUUID()}`,
        params: { orderId: 'o3', lockId: 'dojo-lock', expiry: new Date(Date.now() + 60_000).toISOString() },
        deadline: Date.now() + 5_000,
        traceId: randomUUID(),
        fence: link!.fence,
      });
      assert.ok('error' in res && res.error.errorType === 'Conflict', JSON.stringify(res));
    } finally {
      await client.close();
    }
    assert.deepEqual(result(await call('tableUnlock', { tableId: 'T2', tid: 'TID1' })), { tableId: 'T2', unlocked: true });
  });

  it('keeps one link per location across the two replicas; a replaced link is told apart from a network drop', async () => {
    assert.equal(sim.pat.discontinued.get(accountId) ?? 0, 0, 'no replica took the site from another');
    const before = sim.pat.handshakes.filter((h) => h.status === 101).length;
    sim.pat.discontinueCurrent(accountId);
    await waitFor(async () => (await status())?.lastDisconnect === 'replaced', 'the status says replaced', 10_000);
    await waitFor(() => sim.pat.routed(accountId), 'the gateway dials again', 30_000);
    assert.equal(sim.pat.handshakes.filter((h) => h.status === 101).length, before + 1);
    sim.pat.drop({ accountId, terminate: true });
    await waitFor(async () => (await status())?.lastDisconnect === 'network', 'the status says network', 10_000);
    await waitFor(() => sim.pat.routed(accountId), 'the gateway dials again', 30_000);
  });

  it('never writes the token in a log line', () => {
    const all = [...apps.flatMap((a) => a.out), ...sandboxLog].join('');
    assert.ok(all.length > 0);
    assert.ok(!all.includes(TOKEN), 'the Connect token appears in a log line');
    assert.ok(all.includes('token=***'), 'the dialled URL is logged redacted');
  });
});
