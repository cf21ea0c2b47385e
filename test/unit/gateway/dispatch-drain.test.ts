import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { success } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import type { LocationConfig } from '@app/gateway';
import { EposDataProfile, RequestDispatcher } from '@app/gateway';

const loc: LocationConfig = {
  id: '33333333-3333-3333-3333-333333333333',
  name: 'v',
  enabled: true,
  configVersion: 1,
  capabilities: ['CreateOrderLock'],
  apiKey: 'sk_sandbox_abc',
  softwareHouseId: 'sh-1',
  profile: 'epos-data',
};

const lock = (id: string) =>
  Buffer.from(
    JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'CreateOrderLockV1',
      params: { headers: {}, orderId: 'o1', lockId: 'l1', expiry: new Date(Date.now() + 60_000).toISOString() },
    }),
  );

/**
 * A draining replica refuses new requests with "nothing was applied, please retry". Dojo's retry of an id this
 * replica is still running, or has already answered, is not new: refusing it would tell Dojo nothing was applied
 * about a request that was (or will be), so it joins the request in flight or gets the remembered reply.
 */
describe('request dispatcher while draining', () => {
  it('answers a retried id in flight or already answered as before; refuses only new ids', async () => {
    const jobs: Omit<RpcJob, 'replyTo'>[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rpc = {
      call: async (job: Omit<RpcJob, 'replyTo'>) => {
        jobs.push(job);
        await gate;
        return success(job.rpcId, { lockId: 'l1' });
      },
    };
    const d = new RequestDispatcher(rpc, { maxMessageBytes: 65_536, replyCacheMs: 60_000, deadlineOverrideMs: 0 }, createLogger('t', 'silent'));
    const ctx = () => ({ location: loc, fence: 1, profile: new EposDataProfile(), receivedAt: Date.now() });
    const original = d.handle(ctx(), lock('lock-1'));
    await new Promise((r) => setImmediate(r));
    assert.equal(jobs.length, 1, 'the original request is running');

    d.drain();
    const joined = d.handle(ctx(), lock('lock-1'));
    release();
    const [first, retried] = (await Promise.all([original, joined])).map((t) => JSON.parse(t!));
    assert.deepEqual(first.result, { lockId: 'l1' });
    assert.deepEqual(retried, first, 'the retry while in flight joined the request');

    const again = JSON.parse((await d.handle(ctx(), lock('lock-1')))!);
    assert.deepEqual(again, first, 'a retry of an answered id gets the same reply');

    const fresh = JSON.parse((await d.handle(ctx(), lock('lock-2')))!);
    assert.ok(fresh.error, 'a new id is refused');
    assert.match(JSON.stringify(fresh.error), /restarting; nothing was applied/);
    assert.equal(jobs.length, 1, 'nothing ran again and nothing new ran');
  });
});
