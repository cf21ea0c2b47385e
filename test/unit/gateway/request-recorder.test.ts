import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { EposError, failure, success } from '@app/contracts';
import type { RequestLogEntry } from '@app/queue';
import type { LocationConfig} from '@app/gateway';
import { EposDataProfile, InProcessRpcCaller, RequestDispatcher } from '@app/gateway';

const loc: LocationConfig = {
  id: '33333333-3333-3333-3333-333333333333',
  name: 'v',
  enabled: true,
  configVersion: 1,
  capabilities: ['GetOrderById'],
  apiKey: 'sk_sandbox_abc',
  softwareHouseId: 'sh-1',
  profile: 'epos-data',
};

/** What the dispatcher hands the per-location request record for each answered frame. */
describe('request record entries from the dispatcher', () => {
  it('records method, id, latency, outcome and error type for answers, errors and refused frames', async () => {
    const caller = new InProcessRpcCaller({
      handle: async (job) => {
        const orderId = (job.params as { orderId: string }).orderId;
        if (orderId === 'missing') return failure(job.rpcId, new EposError('NotFound', 'no such order').toBody(job.traceId));
        await new Promise((r) => setTimeout(r, 20));
        return success(job.rpcId, { orderId });
      },
    });
    await caller.start();
    const seen: { locationId: string; entry: RequestLogEntry }[] = [];
    const d = new RequestDispatcher(
      caller,
      { maxMessageBytes: 65_536, replyCacheMs: 60_000, deadlineOverrideMs: 0 },
      createLogger('t', 'silent'),
      (locationId, entry) => seen.push({ locationId, entry }),
    );
    const ctx = () => ({ location: loc, fence: 1, profile: new EposDataProfile(), receivedAt: Date.now() });
    const frame = (id: string, orderId: string) =>
      Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'GetOrderByIdV1', params: { orderId, headers: {} } }));

    await d.handle(ctx(), frame('a1', 'o1'));
    await d.handle(ctx(), frame('a2', 'missing'));
    await d.handle(ctx(), Buffer.from('{not json'));
    await d.handle(ctx(), Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'a4', method: 'NoSuchMethodV9', params: {} })));

    assert.equal(seen.length, 4, 'one entry per answered frame');
    assert.ok(seen.every((s) => s.locationId === loc.id));
    assert.equal(seen.length, 4);
    const [ok, notFound, garbage, unknown] = seen.map((s) => s.entry) as [RequestLogEntry, RequestLogEntry, RequestLogEntry, RequestLogEntry];
    assert.equal(ok.method, 'GetOrderByIdV1');
    assert.equal(ok.rpcId, 'a1');
    assert.equal(ok.outcome, 'ok');
    assert.equal(ok.errorType, undefined);
    assert.ok(ok.ms >= 15, `latency measured from receipt (${ok.ms} ms)`);
    assert.ok(!Number.isNaN(Date.parse(ok.at)));
    assert.match(ok.traceId, /\S/);
    assert.equal(notFound.outcome, 'error');
    assert.equal(notFound.errorType, 'NotFound');
    assert.equal(notFound.rpcId, 'a2');
    assert.equal(garbage.outcome, 'error');
    assert.equal(garbage.method, null);
    assert.equal(unknown.outcome, 'error');
    assert.equal(unknown.rpcId, 'a4');
    assert.match(unknown.errorType ?? '', /\S/);
    await caller.close();
  });
});
