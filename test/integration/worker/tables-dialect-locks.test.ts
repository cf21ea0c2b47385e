/**
 * The Tables API's session locks as the dispatcher runs them (dojoTablesDialect on Postgres, in process): requests
 * that name no terminal (Dojo's example requestor sends `terminalId: []`; a consumer device has no terminal id) must
 * not share one lock, and no real terminal id may name the lock they take.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import type { TablesAnsweredMethod } from '@app/contracts';
import { parseTablesParams, validateTablesReply } from '@app/contracts';
import { tableSessionId } from '@app/domain';
import { dojoTablesDialect } from '@app/domain/rpc';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';
import { rpcJob } from './fixtures';

const unnamedCardMachine = { requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId: [] } };
const consumerDevice = { requestorType: 'REQUESTOR_TYPE_CONSUMER_DEVICE', consumerDeviceRequestorInfo: {} };
const cardMachine = (terminalId: string) => ({ requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId } });

describe('Tables API dialect: locks of requests that name no terminal', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let loc: string;
  let tables: RpcDispatcher<unknown, unknown>;
  let n = 0;
  const sid = (orderId: string) => tableSessionId(loc, orderId);

  before(async () => {
    db = await createTestDatabase('tableslocks');
    fx = fixtures(db.prisma);
    loc = (await fx.location({ softwareHouseId: (await fx.softwareHouse()).id })).id;
    await fx.table(loc, { id: 'T1', name: 'Table 1', maxCovers: 4 });
    tables = new RpcDispatcher({
      prisma: db.prisma,
      logger: createLogger('t', 'silent'),
      events: { ingest: () => Promise.reject(new Error('no events')) },
      dialect: dojoTablesDialect(),
    });
  });
  after(async () => {
    await db?.drop();
  });

  /** One request's `result` (params parsed as the gateway parses them, the reply shape checked); `rpcId` to repeat one. */
  async function result(method: TablesAnsweredMethod, params: Record<string, unknown>, rpcId = `lk-${++n}`): Promise<any> {
    const parsed = parseTablesParams(method, params);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const reply = await tables.handle({ ...rpcJob(loc, 'SearchOrdersV1', {}, { rpcId }), method, dialect: 'dojo-tables', params: parsed.params, settings: {} });
    const v = validateTablesReply(method, reply);
    assert.ok(v.ok, `${method} reply breaks the Tables API shapes: ${JSON.stringify(v)} in ${JSON.stringify(reply)}`);
    return (reply as { result: unknown }).result;
  }
  const payment = (sessionId: string, id: string, baseAmount: number, requestorInfo: object) => ({
    requestorInfo,
    payment: { id, sessionId, baseAmount, currency: 'GBP', paymentSuccessful: true, attemptedAt: '2026-11-30T12:00:00Z', methodDetails: { method: 'PAYMENT_METHOD_CARD_PRESENT' } },
  });

  it('a second device naming no terminal gets SESSION_ALREADY_LOCKED, not the first one\'s lock; the first one\'s retry is replayed', async () => {
    await fx.order(loc, { id: 'A', total: 2_000, tableId: 'T1' });
    const s = sid('A');
    const first = await result('LockSession', { sessionId: s, requestorInfo: unnamedCardMachine }, 'lock-a-1');
    assert.equal(first.billItems.totalAmount, 2_000);
    assert.equal((await result('LockSession', { sessionId: s, requestorInfo: consumerDevice })).errorCode, 'SESSION_ALREADY_LOCKED', 'a consumer device');
    assert.equal((await result('LockSession', { sessionId: s, requestorInfo: unnamedCardMachine })).errorCode, 'SESSION_ALREADY_LOCKED', 'another unnamed card machine');
    assert.deepEqual(await result('LockSession', { sessionId: s, requestorInfo: unnamedCardMachine }, 'lock-a-1'), first, 'the same request again: its stored answer');

    // The holder pays and unlocks as before (a payment or unlock naming no terminal is the unnamed lock's own).
    assert.deepEqual(await result('RecordPayment', payment(s, 'cccccccc-0000-4000-8000-000000000001', 2_000, unnamedCardMachine)), {});
    assert.deepEqual(await result('UnlockSession', { sessionId: s, requestorInfo: unnamedCardMachine }), {});
    const paid = await db.prisma.payment.findMany({ where: { locationId: loc, orderId: 'A' } });
    assert.deepEqual(paid.map((p) => [p.paidAmount, p.lockId]), [[2_000n, 'dojo-tables']]);
  });

  it('a terminal whose id is "terminal" does not share the unnamed lock, either way round', async () => {
    await fx.order(loc, { id: 'B', total: 1_000, tableId: 'T1' });
    await fx.order(loc, { id: 'C', total: 1_000, tableId: 'T1' });
    const b = sid('B');
    assert.equal((await result('LockSession', { sessionId: b, requestorInfo: unnamedCardMachine })).billItems.totalAmount, 1_000);
    assert.equal((await result('LockSession', { sessionId: b, requestorInfo: cardMachine('terminal') })).errorCode, 'SESSION_ALREADY_LOCKED');
    assert.deepEqual(await result('UnlockSession', { sessionId: b, requestorInfo: unnamedCardMachine }), {});

    const c = sid('C');
    assert.equal((await result('LockSession', { sessionId: c, requestorInfo: cardMachine('terminal') })).billItems.totalAmount, 1_000);
    assert.equal((await result('LockSession', { sessionId: c, requestorInfo: unnamedCardMachine })).errorCode, 'SESSION_ALREADY_LOCKED');
    // A terminal that names itself renews its own lock with a new request id, as before.
    assert.equal((await result('LockSession', { sessionId: c, requestorInfo: cardMachine('terminal') })).billItems.totalAmount, 1_000);
    assert.deepEqual(await result('UnlockSession', { sessionId: c, requestorInfo: cardMachine('terminal') }), {});
    assert.equal(await db.prisma.orderLock.count({ where: { locationId: loc } }), 0);
  });
});
