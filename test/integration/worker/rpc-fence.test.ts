import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import type { RpcRequest} from '@app/contracts';
import { isFailure } from '@app/contracts';
import type { RpcWorkerHost } from '@app/queue';
import { fenceChannel, fenceKey, RpcClient, RPC_TRANSPORTS } from '@app/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { recordingWorkerHost } from './fixtures';

/**
 * RpcRequest.fence is the gateway's lease token when it accepted the request.
 * A worker answers a request from a replica that has since lost the lease
 * (the location's fencing counter moved on) with an error, without running it.
 * A replica takes a token the way its lease script does (takeOver below): the
 * counter moves and the token is announced on fenceChannel; the worker keeps
 * the announced tokens (FenceWatch) and reads the counter only for a location
 * it holds none for, or while it is not subscribed.
 */
for (const transport of RPC_TRANSPORTS) describe(`rpc worker: requests from a superseded lease are not run [${transport}]`, () => {
  const prefix = uniquePrefix('rpcfence');
  const locationId = '00000000-0000-4000-8000-00000000f00d';
  let ran: string[] = [];
  let redis: Redis;
  let host: RpcWorkerHost;
  let client: RpcClient;

  before(async () => {
    redis = createRedis(testRedisUrl());
    ({ host, ran } = await recordingWorkerHost({ prefix, transport }));
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, transport, replicaId: 'fence-gw' });
    await client.start();
  });

  after(async () => {
    await client?.close();
    await host?.close();
    await redis?.del(fenceKey(prefix, locationId));
    redis?.disconnect();
  });

  /** What the gateway's lease script does when a replica takes the lease: the counter moves and the token is announced. */
  const takeOver = async (token: number) => {
    await redis.set(fenceKey(prefix, locationId), String(token));
    await redis.publish(fenceChannel(prefix), `${locationId} ${token}`);
    await waitFor(() => host.heldFence(locationId) === token || undefined, `the worker holds token ${token}`);
  };

  const request = (rpcId: string, fence: number, method: RpcRequest['method'] = 'RecordOrderPaymentByIdV1'): RpcRequest => ({
    locationId,
    method,
    rpcId,
    params: {},
    deadline: Date.now() + 5_000,
    traceId: `t-${rpcId}`,
    fence,
  });

  it('runs a request carrying the current token, or when no token is recorded', async () => {
    assert.equal(isFailure(await client.call(request('no-counter', 1))), false);
    await redis.set(fenceKey(prefix, locationId), '5');
    assert.equal(isFailure(await client.call(request('current', 5))), false);
    assert.deepEqual(ran, ['no-counter', 'current']);
  });

  it('answers a request carrying an older token with an error and does not run it', async () => {
    assert.equal(host.heldFence(locationId), 5, 'the token read for the last request is kept');
    await takeOver(6);
    const res = await client.call(request('stale', 5));
    assert.ok(isFailure(res), JSON.stringify(res));
    assert.match(JSON.stringify(res), /no longer owns the location; it was not applied/);
    assert.ok(!ran.includes('stale'), 'the handler did not run');
  });

  it('runs a read carrying an older token: it changes nothing, and the sending replica fences its answer', async () => {
    await takeOver(7);
    assert.equal(isFailure(await client.call(request('stale-read', 5, 'SearchOrdersV1'))), false);
    assert.ok(ran.includes('stale-read'));
    // The same token on a method that changes state is still refused.
    assert.ok(isFailure(await client.call(request('stale-write', 5, 'CreateOrderLockV1'))));
    assert.ok(!ran.includes('stale-write'));
  });

  it('takes a token from the announcement alone: what it holds is not read again', async () => {
    // The counter itself is left behind on purpose: only the announcement says 9.
    await redis.publish(fenceChannel(prefix), `${locationId} 9`);
    await waitFor(() => host.heldFence(locationId) === 9 || undefined, 'the worker holds token 9');
    assert.ok(isFailure(await client.call(request('before-9', 8))), 'refused on the announced token, without reading the counter (7)');
    assert.equal(isFailure(await client.call(request('at-9', 9))), false);
    // A late, lower announcement never lowers what is held.
    await redis.publish(fenceChannel(prefix), `${locationId} 4`);
    assert.ok(isFailure(await client.call(request('still-before-9', 8))));
    await redis.set(fenceKey(prefix, locationId), '9');
  });

  it('when its subscription drops it forgets every token and reads the counter, until it listens again', async () => {
    const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const line = list.split('\n').find((l) => l.includes(` name=fences-${prefix} `));
    assert.ok(line, 'the watch names its connection');
    await redis.call('CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!);
    // Taken while the watch was away: announced to nobody, so only the counter knows.
    await redis.set(fenceKey(prefix, locationId), '12');
    await waitFor(() => host.heldFence(locationId) === undefined || undefined, 'the worker forgot what it held');
    assert.ok(isFailure(await client.call(request('after-drop', 9))), 'refused on the counter (12), not on the forgotten 9');
    assert.equal(host.heldFence(locationId), undefined, 'a token read while not listening is not kept');
    await waitFor(() => host.hearsFences || undefined, 'the worker listens again');
    assert.equal(isFailure(await client.call(request('at-12', 12))), false);
    assert.equal(host.heldFence(locationId), 12, 'listening, the token read is kept');
    await takeOver(13);
    assert.ok(isFailure(await client.call(request('before-13', 12))));
  });
});
