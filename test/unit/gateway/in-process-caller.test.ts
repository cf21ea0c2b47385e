import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { success } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import type { LocationConfig} from '@app/gateway';
import { EposDataProfile, InProcessRpcCaller, RequestDispatcher } from '@app/gateway';

const loc: LocationConfig = {
  id: '22222222-2222-2222-2222-222222222222',
  name: 'v',
  enabled: true,
  configVersion: 1,
  capabilities: ['GetOrderById'],
  apiKey: 'sk_sandbox_abc',
  softwareHouseId: 'sh-1',
  profile: 'epos-data',
};

describe('in-process request path (the benchmark baseline seam)', () => {
  it('RequestDispatcher answers through InProcessRpcCaller with the job it built, and de-duplicates ids the same way', async () => {
    const jobs: Omit<RpcJob, 'replyTo'>[] = [];
    const caller = new InProcessRpcCaller({
      handle: async (job) => {
        jobs.push(job);
        return success(job.rpcId, { orderId: (job.params as { orderId: string }).orderId });
      },
    });
    await caller.start();
    const d = new RequestDispatcher(caller, { maxMessageBytes: 65_536, replyCacheMs: 60_000, deadlineOverrideMs: 0 }, createLogger('t', 'silent'));
    const frame = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'a1', method: 'GetOrderByIdV1', params: { orderId: 'o1', headers: {} } }));
    const ctx = { location: loc, fence: 7, profile: new EposDataProfile(), receivedAt: Date.now() };
    const first = JSON.parse((await d.handle(ctx, frame))!);
    const again = JSON.parse((await d.handle(ctx, frame))!);
    assert.deepEqual(first.result, { orderId: 'o1' });
    assert.deepEqual(again, first);
    assert.equal(jobs.length, 1, 'a repeated id is answered from the reply cache, not run again');
    const job = jobs[0]!;
    assert.equal(job.locationId, loc.id);
    assert.equal(job.fence, 7);
    assert.equal(job.method, 'GetOrderByIdV1');
    await caller.close();
  });
});
