import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import { LeaseStore } from '@app/gateway';
import { fenceChannel, fenceKey } from '@app/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@app/testing';

/**
 * A replica's lease script announces every fencing token it takes on fenceChannel, in the same step as the
 * counter moves (the RPC workers keep their copy of the tokens by these announcements, FenceWatch): a token is
 * never taken unannounced, and a refused acquisition announces nothing.
 */
describe('gateway leases: each fencing token taken is announced', () => {
  const prefix = uniquePrefix('leasefence');
  const loc = '00000000-0000-4000-8000-0000000fe2ce';
  let redis: Redis;
  let sub: Redis;
  const heard: string[] = [];

  before(async () => {
    redis = createRedis(testRedisUrl());
    sub = createRedis(testRedisUrl(), 'blocking');
    sub.on('message', (_channel: string, message: string) => heard.push(message));
    await sub.subscribe(fenceChannel(prefix));
  });
  after(async () => {
    await redis?.del(fenceKey(prefix, loc));
    redis?.disconnect();
    sub?.disconnect();
  });

  it('announces "<location> <token>" for each acquisition, and nothing for a refused one', async () => {
    const a = new LeaseStore(redis, prefix, 'gw-a', 5_000);
    const b = new LeaseStore(redis, prefix, 'gw-b', 5_000);
    const first = await a.acquire(loc);
    assert.ok(first);
    await waitFor(() => heard.length === 1 || undefined, 'the first announcement');
    assert.deepEqual(heard, [`${loc} ${first}`]);
    assert.equal(await redis.get(fenceKey(prefix, loc)), String(first));
    assert.equal(await b.acquire(loc), undefined, 'held by gw-a: refused');
    const again = await a.acquire(loc);
    assert.equal(again, first + 1, 'the holder taking it again moves the counter too');
    await waitFor(() => heard.length === 2 || undefined, 'the second announcement');
    assert.deepEqual(heard, [`${loc} ${first}`, `${loc} ${again}`], 'the refused acquisition announced nothing');
  });
});
