import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DojoSandbox } from '@app/dojo-sandbox';
import { waitFor } from '@app/testing';
import { FakeEpos } from './fake-epos';

describe('dojo sandbox: load generator', () => {
  let sim: DojoSandbox;
  const fakes: FakeEpos[] = [];
  const LOCATIONS = 25;

  before(async () => {
    sim = await DojoSandbox.start({ port: 0 });
    const accounts = sim.addAccounts(LOCATIONS, { prefix: 'acc_load', softwareHouseId: 'sh_load', capabilities: ['SearchOrders', 'GetOrderById'] });
    for (const a of accounts) {
      const f = new FakeEpos({ wsUrl: sim.wsUrl, restUrl: sim.url, apiKey: a.apiKey, softwareHouseId: 'sh_load' });
      f.seedOrder('ord_1', 'T1', 1000);
      fakes.push(f);
    }
    await Promise.all(fakes.map((f) => f.connect()));
    await waitFor(() => sim.hub.totalConnections() === LOCATIONS, 'all connected');
  });

  after(async () => {
    for (const f of fakes) f.close();
    await sim.close();
  });

  it('sends a method mix at a target rate over many locations and reports latency percentiles', async () => {
    const report = await sim.load({
      accountIds: sim.accounts.all().map((a) => a.accountId),
      ratePerSec: 300,
      durationMs: 1_000,
      mix: { SearchOrdersV1: 3, GetOrderByIdV1: 1, ListAreasV1: 1 },
    });
    assert.ok(report.sent >= 280 && report.sent <= 300, `sent ${report.sent}`);
    // ListAreas is not registered: counted as not routed, never sent.
    assert.ok(report.notRouted > 0);
    assert.equal(report.timeouts, 0);
    assert.equal(report.rpcErrors, 0);
    assert.equal(report.ok + report.notRouted, report.sent);
    assert.equal(report.latency.count, report.ok);
    assert.ok(report.latency.p50 > 0 && report.latency.p50 <= report.latency.p95 && report.latency.p95 <= report.latency.p99 && report.latency.p99 <= report.latency.max);
    assert.ok(report.byMethod.SearchOrdersV1!.count > report.byMethod.GetOrderByIdV1!.count);
    assert.equal(fakes.reduce((n, f) => n + f.received.filter((r) => r.method === 'ListAreasV1').length, 0), 0);
    assert.ok(fakes.every((f) => f.received.length > 0), 'every location got requests');
    for (const a of sim.accounts.all()) assert.equal(sim.peakConnectionsFor(a.accountId), 1);
    // The sandbox-wide recorder saw the same calls.
    assert.ok(sim.latency.stats().all.count >= report.ok);
  });
});
