/**
 * The Tables API dialect's reads as the dispatcher runs them (dojoTablesDialect on Postgres, in process): what a
 * list's filters and a session's bill answer, each reply checked against the Tables API's result shapes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import type { TablesAnsweredMethod } from '@app/contracts';
import { parseTablesParams, validateTablesReply } from '@app/contracts';
import { tableSessionId } from '@app/domain';
import { dojoTablesDialect } from '@app/domain/rpc';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';
import { rpcJob } from './fixtures';

describe('Tables API dialect: list filters and bills', () => {
  let db: TestDatabase;
  let loc: string;
  let tables: RpcDispatcher<unknown, unknown>;
  const sid = (orderId: string) => tableSessionId(loc, orderId);

  before(async () => {
    db = await createTestDatabase('tablesreads');
    const fx = fixtures(db.prisma);
    loc = (await fx.location({ softwareHouseId: (await fx.softwareHouse()).id })).id;
    await fx.table(loc, { id: 'T1', name: 'Table 1', maxCovers: 4 });
    await fx.table(loc, { id: 'T2', name: 'Table 2', maxCovers: 2 });
    await fx.order(loc, { id: 'A', total: 2_000, tableId: 'T1' });
    await fx.order(loc, { id: 'TAB', total: 1_500 });
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

  /**
   * A card machine's request (Dojo's example requestor: `terminalId: []`), its params parsed as the gateway parses
   * them (parseTablesParams); the reply's `result`, shape checked.
   */
  async function result(method: TablesAnsweredMethod, params: Record<string, unknown> = {}, settings: Record<string, unknown> = {}, at = loc): Promise<any> {
    const requestorInfo = { requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId: [] } };
    const parsed = parseTablesParams(method, { requestorInfo, ...params });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const reply = await tables.handle({ ...rpcJob(at, 'SearchOrdersV1', {}), method, dialect: 'dojo-tables', params: parsed.params, settings });
    const v = validateTablesReply(method, reply);
    assert.ok(v.ok, `${method} reply breaks the Tables API shapes: ${JSON.stringify(v)} in ${JSON.stringify(reply)}`);
    return (reply as { result: unknown }).result;
  }

  it('ListSessions reads tableNames: [] as no filter (all), as an absent one', async () => {
    const all = (await result('ListSessions')).sessions.map((s: any) => s.id);
    assert.deepEqual(all, [sid('A'), sid('TAB')]);
    assert.deepEqual((await result('ListSessions', { tableNames: [] })).sessions.map((s: any) => s.id), all, 'tableNames: []');
    assert.deepEqual((await result('ListSessions', { tableNames: null })).sessions.map((s: any) => s.id), all, 'tableNames: null');
    assert.deepEqual((await result('ListSessions', { tableNames: ['Table 1'] })).sessions.map((s: any) => s.id), [sid('A')], 'a name still filters');
  });

  it('ListBillItems reads sessionIds: [] as no filter (all)', async () => {
    const all = [sid('A'), sid('TAB')];
    const bills = (await result('ListBillItems')).billItems.map((b: any) => b.sessionId);
    assert.deepEqual(bills, all);
    assert.deepEqual((await result('ListBillItems', { sessionIds: [] })).billItems.map((b: any) => b.sessionId), all, 'sessionIds: []');
    assert.deepEqual((await result('ListBillItems', { sessionIds: ['11111111-1111-3111-8111-111111111111'] })).billItems, [], 'unknown ids still match nothing');
  });

  it('ListBillItems leaves out the sessions GetBillItems has no bill for (canceled, failed), as it does', async () => {
    const fx = fixtures(db.prisma);
    await fx.order(loc, { id: 'VOID', total: 800, status: 'Canceled' });
    await fx.order(loc, { id: 'FAILED', total: 900, status: 'Failed' });
    await fx.order(loc, { id: 'DONE', total: 1_000, status: 'Finalized' });
    for (const id of ['VOID', 'FAILED']) {
      assert.equal((await result('GetBillItems', { sessionId: sid(id) })).errorCode, 'BILL_NO_SUCH_BILL', id);
    }
    assert.equal((await result('GetBillItems', { sessionId: sid('DONE') })).billItems.sessionId, sid('DONE'), 'a finalized order keeps its bill');
    const listed = (await result('ListSessions')).sessions.map((s: any) => s.id);
    assert.ok(listed.includes(sid('VOID')) && listed.includes(sid('FAILED')), 'they are still sessions (finished)');
    const billed = [sid('A'), sid('TAB'), sid('DONE')];
    assert.deepEqual((await result('ListBillItems')).billItems.map((b: any) => b.sessionId), billed);
    assert.deepEqual((await result('ListBillItems', { sessionIds: [sid('VOID'), sid('DONE')] })).billItems.map((b: any) => b.sessionId), [sid('DONE')]);
  });

  it('ListTables reads statuses: [] as no filter (all)', async () => {
    const names = (await result('ListTables')).tables.map((t: any) => t.name);
    assert.deepEqual(names, ['Table 1', 'Table 2']);
    assert.deepEqual((await result('ListTables', { statuses: [] })).tables.map((t: any) => t.name), names, 'statuses: []');
    assert.deepEqual((await result('ListTables', { statuses: ['TABLE_STATUS_AVAILABLE'] })).tables.map((t: any) => t.name), ['Table 2']);
  });

  it('GetTable answers, of tables sharing a name, the one with the lowest id', async () => {
    const fx = fixtures(db.prisma);
    await fx.table(loc, { id: 'booth-b', name: 'Booth', maxCovers: 2 });
    await fx.table(loc, { id: 'booth-a', name: 'Booth', maxCovers: 6 });
    for (let i = 0; i < 3; i++) assert.deepEqual((await result('GetTable', { name: 'Booth' })).table, { name: 'Booth', maxCovers: 6, status: 'TABLE_STATUS_AVAILABLE' });
  });

  it('enforced waiter ids: the Tables API\'s integer waiter 1 is the venue\'s "001"; a venue id that is not digits matches no terminal', async () => {
    const fx = fixtures(db.prisma);
    const waiters = (await fx.location({ softwareHouseId: (await fx.softwareHouse()).id })).id;
    await fx.table(waiters, { id: 'W1', name: 'W1', maxCovers: 4 });
    await fx.order(waiters, { id: 'ONE', total: 1_000, tableId: 'W1', waiterId: '001' });
    await fx.order(waiters, { id: 'AMY', total: 1_000, tableId: 'W1', waiterId: 'w-amy' });
    await fx.order(waiters, { id: 'TWO', total: 1_000, tableId: 'W1', waiterId: '2' });
    await fx.order(waiters, { id: 'ANY', total: 1_000, tableId: 'W1' });
    const enforced = { enforceWaiterId: true };
    const as = (waiterId: number | string) => ({ requestorInfo: { requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId: 'T', waiterId } } });
    const s = (orderId: string) => tableSessionId(waiters, orderId);

    const all = (await result('ListSessions', {}, {}, waiters)).sessions as any[];
    assert.deepEqual(all.map((x) => [x.id, x.waiter]), [[s('ONE'), { id: 1 }], [s('AMY'), undefined], [s('TWO'), { id: 2 }], [s('ANY'), undefined]], 'the waiter ids the terminals see');

    for (const w of [1, '001']) {
      assert.deepEqual((await result('ListSessions', as(w), enforced, waiters)).sessions.map((x: any) => x.id), [s('ONE'), s('ANY')], `ListSessions as waiter ${w}`);
      assert.deepEqual((await result('ListBillItems', as(w), enforced, waiters)).billItems.map((b: any) => b.sessionId), [s('ONE'), s('ANY')], `ListBillItems as waiter ${w}`);
      assert.equal((await result('GetSession', { sessionId: s('ONE'), ...as(w) }, enforced, waiters)).session.id, s('ONE'), `GetSession as waiter ${w}`);
      assert.equal((await result('GetBillItems', { sessionId: s('ONE'), ...as(w) }, enforced, waiters)).billItems.sessionId, s('ONE'));
    }
    assert.equal((await result('GetSession', { sessionId: s('ONE'), ...as(2) }, enforced, waiters)).errorCode, 'WAITER_INCORRECT_WAITER_ID', 'another waiter');
    assert.equal((await result('GetSession', { sessionId: s('AMY'), ...as(1) }, enforced, waiters)).errorCode, 'WAITER_INCORRECT_WAITER_ID', '"w-amy" is no number');
    assert.deepEqual((await result('ListSessions', as(2), enforced, waiters)).sessions.map((x: any) => x.id), [s('TWO'), s('ANY')]);
  });
});
