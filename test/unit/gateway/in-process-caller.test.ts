import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { EposError, failure, success } from '@app/contracts';
import type { RequestLogEntry } from '@app/queue';
import type { RpcJob } from '@app/queue';
import type { LocationConfig} from '@app/gateway';
import { EposDataProfile, InProcessRpcCaller, ReplyCache, RequestDispatcher } from '@app/gateway';

const loc: LocationConfig = {
  id: '22222222-2222-2222-2222-222222222222',
  name: 'v',
  enabled: true,
  configVersion: 1,
  capabilities: ['GetOrderById', 'GetOrderBill'],
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
    // The same id for another method is another request: never answered with the first one's reply.
    const other = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'a1', method: 'GetOrderBillByIdV1', params: { orderId: 'o1', headers: {} } }));
    await d.handle(ctx, other);
    assert.deepEqual(jobs.map((j) => j.method), ['GetOrderByIdV1', 'GetOrderBillByIdV1']);
    const job = jobs[0]!;
    assert.equal(job.locationId, loc.id);
    assert.equal(job.fence, 7);
    assert.equal(job.method, 'GetOrderByIdV1');
    await caller.close();
  });

  it('answers the method deadline error when the handler has not answered in time (RpcClient wording), and the handler otherwise', async () => {
    let runs = 0;
    const never = new InProcessRpcCaller({
      handle: () => {
        runs++;
        return new Promise(() => undefined);
      },
    });
    const job = { locationId: loc.id, method: 'GetOrderByIdV1', rpcId: 'd1', params: {}, deadline: Date.now() + 60, traceId: 't', fence: 1 };
    const failure = (message: string) => ({ jsonrpc: '2.0', id: 'd1', error: { code: -32000, message } }) as never;
    const t0 = Date.now();
    const late = (await never.call(job, failure)) as unknown as { error: { message: string } };
    assert.ok(Date.now() - t0 >= 50, 'waited for the deadline');
    assert.match(late.error.message, /did not answer GetOrderByIdV1 within its deadline; nothing was applied/);
    const past = (await never.call({ ...job, deadline: Date.now() - 1 }, failure)) as unknown as { error: { message: string } };
    assert.match(past.error.message, /within its deadline/, 'a deadline already passed answers at once');
    assert.equal(runs, 1, 'a request already past its deadline is not run');
    const quick = new InProcessRpcCaller({ handle: async (j) => success(j.rpcId, { ok: true }) });
    const answered = (await quick.call({ ...job, deadline: Date.now() + 5_000 }, failure)) as unknown as { result: unknown };
    assert.deepEqual(answered.result, { ok: true });
  });

  it("RequestDispatcher sends what the profile says only reads to `reads`, everything else to the queue's caller", async () => {
    const seen: string[] = [];
    const side = (name: string) =>
      new InProcessRpcCaller({
        handle: async (job) => {
          seen.push(`${name}:${job.method}`);
          return success(job.rpcId, {});
        },
      });
    const d = new RequestDispatcher(side('queue'), { maxMessageBytes: 65_536, replyCacheMs: 0, deadlineOverrideMs: 0 }, createLogger('t', 'silent'), undefined, side('local'));
    const ctx = { location: { ...loc, capabilities: ['GetOrderById', 'SearchOrders', 'CreateOrderLock', 'RecordOrderPayment'] }, fence: 1, profile: new EposDataProfile(), receivedAt: Date.now() };
    const send = (id: string, method: string, params: object) => d.handle(ctx, Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, headers: {} } })));
    await send('1', 'GetOrderByIdV1', { orderId: 'o1' });
    await send('2', 'SearchOrdersV1', {});
    await send('3', 'CreateOrderLockV1', { orderId: 'o1', lockId: 'lk1', expiry: new Date(Date.now() + 60_000).toISOString() });
    assert.deepEqual(seen, ['local:GetOrderByIdV1', 'local:SearchOrdersV1', 'queue:CreateOrderLockV1']);
  });

  it('a repeated id gets the reply text sent the first time, with its error type; a platform failure is not remembered', async () => {
    let runs = 0;
    const caller = new InProcessRpcCaller({
      handle: async (job) => {
        runs++;
        const orderId = (job.params as { orderId: string }).orderId;
        if (orderId === 'missing') return failure(job.rpcId, new EposError('NotFound', 'no such order').toBody(job.traceId));
        return success(job.rpcId, { orderId, at: runs });
      },
    });
    await caller.start();
    const records: RequestLogEntry[] = [];
    const d = new RequestDispatcher(
      caller,
      { maxMessageBytes: 65_536, replyCacheMs: 60_000, deadlineOverrideMs: 0 },
      createLogger('t', 'silent'),
      (_loc, entry) => records.push(entry),
    );
    const ctx = () => ({ location: loc, fence: 1, profile: new EposDataProfile(), receivedAt: Date.now() });
    const frame = (id: string, orderId: string) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'GetOrderByIdV1', params: { orderId, headers: {} } }));
    const first = await d.handle(ctx(), frame('r1', 'o1'));
    assert.equal(await d.handle(ctx(), frame('r1', 'o1')), first, 'the same text, byte for byte (not run again: `at` would differ)');
    const refused = await d.handle(ctx(), frame('r2', 'missing'));
    assert.equal(await d.handle(ctx(), frame('r2', 'missing')), refused);
    assert.equal(runs, 2);
    // A reply that cannot be encoded (a BigInt): an error reply instead, and the id is not left in flight.
    const unencodable = new RequestDispatcher(
      new InProcessRpcCaller({ handle: async (job) => success(job.rpcId, { n: 1n }) }),
      { maxMessageBytes: 65_536, replyCacheMs: 60_000, deadlineOverrideMs: 0 },
      createLogger('t', 'silent'),
    );
    assert.match((await unencodable.handle(ctx(), frame('r3', 'o1')))!, /UnexpectedError/);
    assert.equal(unencodable.inFlight, 0);
    assert.deepEqual(records.map((r) => [r.rpcId, r.outcome, r.errorType ?? null]), [
      ['r1', 'ok', null],
      ['r1', 'ok', null],
      ['r2', 'error', 'NotFound'],
      ['r2', 'error', 'NotFound'],
    ]);
    await caller.close();

    // A deadline or a queue failure committed nothing: the retry runs again.
    const cache = new ReplyCache(60_000);
    cache.track('k', Promise.resolve(success('k', {})));
    cache.settle('k', undefined);
    assert.equal(cache.cached('k'), undefined);
    assert.equal(cache.pending('k'), undefined);
    cache.settle('k2', { text: '{"id":"k2"}', errorType: undefined }, 1_000);
    assert.deepEqual(cache.cached('k2', 60_999), { text: '{"id":"k2"}', errorType: undefined });
    assert.equal(cache.cached('k2', 61_001), undefined, 'forgotten after the TTL');
    assert.equal(cache.size, 0);
  });
});
