import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { RunningApp } from '@app/common';
import type { FlowResult } from '@app/dojo-sandbox';
import { DojoSandbox } from '@app/dojo-sandbox';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { startWorker } from '../../../apps/worker/src/main';
import { bootGateway } from '../gateway/support/harness';
import { handshakeStatus } from './fake-epos';

const KEY = '5f0c2b8e-8d2a-4c53-9a1e-0c6a9d3e7b21';
const explain = (r: FlowResult) => JSON.stringify(r.steps.map((s) => [s.name, s.status, s.additionalInformation]), null, 1);

describe('dojo sandbox: the Tables API endpoint and its pay-at-table flow', () => {
  let db: TestDatabase;
  let sim: DojoSandbox;
  const apps: RunningApp[] = [];

  before(async () => {
    db = await createTestDatabase('tablesflow');
    sim = await DojoSandbox.start({ port: 0, callTimeoutMs: 5_000 });
    sim.addAccount({ apiKey: KEY, softwareHouseId: 'sh_tables', accountId: 'acctables01' });
    sim.addAccount({ apiKey: 'corrupt-key-0001', softwareHouseId: 'sh_tables', accountId: 'acccorrupt' });
    const fx = fixtures(db.prisma);
    const sh = await fx.softwareHouse({ dojoId: 'sh_tables' });
    const loc = await fx.location({
      softwareHouseId: sh.id, dojoAccountId: 'acctables01', apiKey: KEY, protocol: 'dojo-tables', registrationState: 'not_required',
      wsUrl: `${sim.url.replace(/^http/, 'ws')}/ws/v1/tables/epos`, protocolSettings: { accountName: 'acctables01', environment: 'staging', enforceWaiterId: false },
    });
    await fx.table(loc.id, { id: 'T1', name: 'Table 1', maxCovers: 4 });
    await fx.order(loc.id, { id: 'ORD-1', total: 3000, tableId: 'T1' });
    await db.prisma.billTemplate.create({ data: { locationId: loc.id, header: [{ lineType: 'MerchantName', merchantName: { name: 'Sandbox Inn' } }], footer: [] } });
    const env = { QUEUE_PREFIX: uniquePrefix('tablesflow') };
    apps.push(await startWorker(appEnv(db, env)));
    apps.push(await bootGateway(db, env));
    await waitFor(() => sim.connectionsFor('acctables01') === 1, 'the gateway on the Tables endpoint', 20_000);
  });

  after(async () => {
    for (const a of apps.reverse()) await a.close().catch(() => undefined); // best effort (teardown)
    await sim.close();
    await db.drop();
  });

  it('accepts only the exact Tables handshake: Basic base64("<accountName>:<apiKey>") and the account\'s software-house-id', async () => {
    const url = `${sim.url.replace(/^http/, 'ws')}/ws/v1/tables/epos`;
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    assert.equal(await handshakeStatus(url, { Authorization: `Basic ${b64(`acccorrupt:corrupt-key-0001`)}`, 'software-house-id': 'sh_tables' }), 101);
    assert.equal(await handshakeStatus(url, { Authorization: `Basic ${b64(`acccorrupt : corrupt-key-0001`)}`, 'software-house-id': 'sh_tables' }), 401, 'no spaces');
    assert.equal(await handshakeStatus(url, { Authorization: 'Basic corrupt-key-0001', 'software-house-id': 'sh_tables' }), 401, 'the raw key is EPOS Data');
    assert.equal(await handshakeStatus(url, { Authorization: `Basic ${b64(`acctables01:corrupt-key-0001`)}`, 'software-house-id': 'sh_tables' }), 401, 'another account');
    assert.equal(await handshakeStatus(url, { Authorization: `Basic ${b64(`acccorrupt:corrupt-key-0001`)}` }), 401, 'software-house-id required');
    assert.equal(sim.hub.connectionInfo('acctables01')[0]!.protocol, 'dojo-tables');
  });

  it('pay-at-table runs green over the Tables API through the platform', async () => {
    const r = await sim.runFlow('pay-at-table', { accountId: 'acctables01' });
    assert.equal(r.status, 'SUCCESS', explain(r));
    assert.deepEqual(r.steps.map((s) => s.method), [
      'ListTables', 'ListSessions', 'GetSession', 'LockSession', 'RecordPayment', 'UnlockSession', 'LockSession', 'RecordPayment', 'UnlockSession', 'GetFullBill',
    ]);
    assert.equal(r.steps[4]!.additionalInformation[0], 'paid 15.00 GBP');
    assert.equal(r.steps[7]!.additionalInformation[0], 'paid 15.00 GBP + tip 3.00 GBP');
    assert.match(r.steps[9]!.additionalInformation[0]!, /paid 30\.00 GBP in full/);
    const order = await db.prisma.order.findFirstOrThrow({ where: { id: 'ORD-1' } });
    assert.equal(order.paidAmount, 3000n);
    assert.equal(order.tipsAmount, 300n);
    assert.equal(await db.prisma.orderLock.count(), 0, 'unlocked after each payment');
  });

  it('fails a flow on a corrupted reply field, naming the message and the field', async () => {
    const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/ws/v1/tables/epos`, {
      headers: { Authorization: `Basic ${Buffer.from('acccorrupt:corrupt-key-0001').toString('base64')}`, 'software-house-id': 'sh_tables' },
    });
    ws.on('message', (data) => {
      const req = JSON.parse((data as Buffer).toString('utf8')) as { id: string; method: string };
      // A table whose maxCovers came out as text.
      if (req.method === 'ListTables') ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { tables: [{ name: 'Table 9', maxCovers: 'four', status: 'TABLE_STATUS_OCCUPIED' }] } }));
    });
    await new Promise((r) => ws.once('open', r));
    try {
      const r = await sim.runFlow('pay-at-table', { accountId: 'acccorrupt' });
      assert.equal(r.status, 'FAILURE');
      assert.deepEqual(r.steps.at(-1)!.additionalInformation, ['ListTables reply breaks the Tables API: result.tables.0.maxCovers Invalid input: expected number, received string']);
    } finally {
      ws.terminate();
    }
  });
});
