import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import type { RpcStreamConsumerOptions } from '@app/queue';
import { success } from '@app/contracts';
import { RpcStreamConsumer, rpcReaderLeaseKey, rpcStreamKey, RpcWorkerHost, StreamRpcSender } from '@app/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { rpcJob } from './fixtures';

const locationId = '00000000-0000-4000-8000-00000000c0c0';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * RPC_CONCENTRATE on the request stream, on real Redis: requests go to the worker holding the reader lease while it
 * keeps up, the others take what it leaves waiting (RPC_HELP_AFTER_MS), and the lease passes on when its holder stops. Each consumer records
 * which requests it ran.
 */
describe('rpc streams: requests concentrated on one worker', () => {
  const opened: { consumers: RpcStreamConsumer[]; redis: Redis[] } = { consumers: [], redis: [] };

  /** A started consumer whose processor records the request's rpcId under `name` (and waits for `hold` if given). */
  async function consumer(prefix: string, name: string, ran: Map<string, string>, o: Partial<RpcStreamConsumerOptions> & { hold?: Promise<void> } = {}) {
    const commands = createRedis(testRedisUrl(), 'command', { enableAutoPipelining: true });
    opened.redis.push(commands);
    const { hold, ...opts } = o;
    const c = new RpcStreamConsumer({ redisUrl: testRedisUrl(), prefix, concurrency: 4, commands, leaseMs: 600, ...opts }, async (job) => {
      ran.set(job.data.rpcId, name);
      if (hold) await hold;
      await job.finish();
    });
    opened.consumers.push(c);
    await c.waitUntilReady();
    c.start();
    return c;
  }

  function sender(prefix: string) {
    const redis = createRedis(testRedisUrl(), 'command');
    opened.redis.push(redis);
    let n = 0;
    const s = new StreamRpcSender(redis, prefix);
    return {
      redis,
      /** Sends one request and returns its rpcId. */
      send: async () => {
        const job = { ...rpcJob(locationId, 'SearchOrdersV1', {}, { rpcId: `c-${++n}` }), replyTo: 'nobody' };
        await s.add(job.rpcId, job);
        return job.rpcId;
      },
    };
  }

  /** Sends `count` requests `gapMs` apart and waits until all ran; how many each consumer ran. */
  async function spread(prefix: string, ran: Map<string, string>, count: number, gapMs: number): Promise<Record<string, number>> {
    const { send } = sender(prefix);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(await send());
      await sleep(gapMs);
    }
    await waitFor(() => ids.every((id) => ran.has(id)), `all ${count} requests ran`);
    const by: Record<string, number> = {};
    for (const id of ids) by[ran.get(id)!] = (by[ran.get(id)!] ?? 0) + 1;
    return by;
  }

  /** A lease holder `a` (started first, waited for) and another consumer `b` on a new prefix. */
  async function holderAndOther(label: string, aOpts: Partial<RpcStreamConsumerOptions> & { hold?: Promise<void> } = {}, bOpts: Partial<RpcStreamConsumerOptions> = {}) {
    const prefix = uniquePrefix(label);
    const ran = new Map<string, string>();
    const a = await consumer(prefix, 'a', ran, aOpts);
    await waitFor(() => a.blocking, 'the first consumer takes the reader lease');
    const b = await consumer(prefix, 'b', ran, bOpts);
    return { prefix, ran, a, b };
  }

  /**
   * A lease holder whose one slot is taken by a first request it holds until `body` has run (released in any case, else
   * the held job keeps its consumer's close() waiting), and another consumer with `bOpts`.
   */
  async function withBusyHolder(
    label: string,
    bOpts: Partial<RpcStreamConsumerOptions>,
    body: (t: Awaited<ReturnType<typeof holderAndOther>> & ReturnType<typeof sender>) => Promise<void>,
  ): Promise<void> {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    try {
      const pair = await holderAndOther(label, { concurrency: 1, hold }, bOpts);
      const s = sender(pair.prefix);
      const first = await s.send();
      await waitFor(() => pair.ran.get(first) === 'a', 'the lease holder takes the first request');
      await body({ ...pair, ...s });
    } finally {
      release();
    }
  }

  after(async () => {
    await Promise.all(opened.consumers.map((c) => c.close()));
    for (const r of opened.redis) r.disconnect();
  });

  it('at a rate the lease holder keeps up with, it runs (nearly) every request; without concentration they alternate', async () => {
    const { prefix, ran, b } = await holderAndOther('rpcconc');
    await sleep(100);
    assert.equal(b.blocking, false, 'one lease holder');
    const by = await spread(prefix, ran, 40, 5);
    assert.ok((by.a ?? 0) >= 36, `the lease holder ran ${by.a ?? 0} of 40 (the other ${by.b ?? 0})`);

    // The same with RPC_CONCENTRATE=false: both block, and Redis hands each entry to the one that waited longest.
    const prefix2 = uniquePrefix('rpcrr');
    const ran2 = new Map<string, string>();
    const c = await consumer(prefix2, 'c', ran2, { concentrate: false });
    const d = await consumer(prefix2, 'd', ran2, { concentrate: false });
    assert.ok(c.blocking && d.blocking);
    await sleep(50);
    const by2 = await spread(prefix2, ran2, 40, 5);
    assert.ok((by2.c ?? 0) >= 10 && (by2.d ?? 0) >= 10, `in turn: ${JSON.stringify(by2)}`);
    assert.equal(await opened.redis[0]!.exists(rpcReaderLeaseKey(prefix2)), 0, 'no lease without concentration');
  });

  it('requests the lease holder cannot take (every slot busy) are taken by another worker', async () => {
    await withBusyHolder('rpcconcbusy', {}, async ({ ran, a, b, send }) => {
      // Its one slot is held: the next requests wait in the stream until the other worker's read finds them.
      const next = [await send(), await send(), await send()];
      await waitFor(() => next.every((id) => ran.get(id) === 'b'), 'the other worker runs the requests the holder left', 2_000);
      assert.equal(a.blocking, true, 'the lease stays with its holder');
      assert.equal(b.blocking, false);
    });
  });

  it('another worker leaves a waiting request to the holder until it has waited helpAfterMs, then takes it', async () => {
    await withBusyHolder('rpcconclate', { helpAfterMs: 400, pollMs: 10 }, async ({ ran, send }) => {
      // The holder's one slot is held, so the next request waits in the stream; the other worker reads every 10 ms.
      const sentAt = Date.now();
      const next = await send();
      await sleep(250);
      assert.equal(ran.get(next), undefined, 'not taken while it has waited less than helpAfterMs');
      await waitFor(() => ran.get(next) === 'b', 'taken by the other worker once it has waited helpAfterMs', 2_000);
      const waited = Date.now() - sentAt;
      assert.ok(waited >= 390 && waited < 1_000, `taken after ${waited} ms`);
    });
  });

  it("an entry whose id is ahead of Redis's clock (a clock that stepped back) is not left waiting for it", async () => {
    await withBusyHolder('rpcconcclock', { helpAfterMs: 400, pollMs: 10 }, async ({ prefix, ran, redis }) => {
      // As XADD * numbers entries after Redis's clock stepped back a minute: after the last id, a minute ahead.
      const job = { ...rpcJob(locationId, 'SearchOrdersV1', {}, { rpcId: 'ahead' }), replyTo: 'nobody' };
      await redis.xadd(rpcStreamKey(prefix), `${Date.now() + 60_000}-0`, 'j', 'ahead', 'd', JSON.stringify(job));
      await waitFor(() => ran.get('ahead') === 'b', 'taken by the other worker without waiting for the clock', 1_000);
    });
  });

  it('the lease passes on when its holder stops, or when a holder stops renewing it', async () => {
    const { prefix, ran, a, b } = await holderAndOther('rpcconclease');
    await a.close();
    await waitFor(() => b.blocking, 'the other worker takes the lease at its next renewal', 2_000);
    const by = await spread(prefix, ran, 10, 5);
    assert.deepEqual(by, { b: 10 }, 'and runs the requests');

    // A holder that stopped renewing (a process frozen or gone without closing): its lease runs out, then another takes it.
    const redis = opened.redis[0]!;
    const prefix2 = uniquePrefix('rpcconcstale');
    await redis.set(rpcReaderLeaseKey(prefix2), 'a-frozen-worker', 'PX', 800);
    const ran2 = new Map<string, string>();
    const c = await consumer(prefix2, 'c', ran2);
    await sleep(300);
    assert.equal(c.blocking, false, 'not while the lease is held');
    const first = await sender(prefix2).send();
    await waitFor(() => ran2.get(first) === 'c', 'meanwhile it takes the requests by reading without blocking', 2_000);
    await waitFor(() => c.blocking, 'it holds the lease once the old one ran out', 3_000);
    assert.equal(await redis.get(rpcReaderLeaseKey(prefix2)), c.consumer);
    assert.ok((await redis.xlen(rpcStreamKey(prefix2))) === 0, 'answered requests are deleted');
  });
});

/**
 * What the outbox follows (OUTBOX_HELP_AFTER_MS): a worker host takes requests first while it holds the reader lease,
 * every host does when requests are not concentrated or go through BullMQ, and the role passes on with the lease.
 */
describe('rpc worker host: whether it takes requests first', () => {
  const hosts: RpcWorkerHost[] = [];
  const host = async (prefix: string, o: { transport?: 'streams' | 'bullmq'; concentrate?: boolean } = {}) => {
    const h = new RpcWorkerHost({ redisUrl: testRedisUrl(), prefix, concurrency: 2, ...o, handler: async (job) => success(job.rpcId, { ok: true }) });
    hosts.push(h);
    await h.waitUntilReady();
    h.start();
    return h;
  };

  after(async () => {
    await Promise.all(hosts.map((h) => h.close()));
  });

  it('one of two concentrated hosts, and the other once the first stops', async () => {
    const prefix = uniquePrefix('firsthost');
    const a = await host(prefix);
    await waitFor(() => a.takesRequestsFirst, 'the first host takes the reader lease');
    const b = await host(prefix);
    await sleep(1_500); // several lease ticks of b
    assert.equal(a.takesRequestsFirst, true);
    assert.equal(b.takesRequestsFirst, false, 'only the lease holder');
    await a.close();
    await waitFor(() => b.takesRequestsFirst, 'the other host takes the lease once the first has stopped');
  });

  it('every host without concentration, and every BullMQ host', async () => {
    const c = await host(uniquePrefix('firstall'), { concentrate: false });
    const d = await host(uniquePrefix('firstbull'), { transport: 'bullmq' });
    assert.equal(c.takesRequestsFirst, true);
    assert.equal(d.takesRequestsFirst, true);
  });
});
