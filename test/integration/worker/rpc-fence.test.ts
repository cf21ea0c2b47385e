import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import type { RpcRequest} from '@app/contracts';
import { isFailure, success } from '@app/contracts';
import { fenceKey, RpcClient, RpcWorkerHost, RPC_TRANSPORTS } from '@app/queue';
import { testRedisUrl, uniquePrefix } from '@app/testing';

/**
 * RpcRequest.fence is the gateway's lease token when it accepted the request.
 * A worker answers a request from a replica that has since lost the lease
 * (the location's fencing counter moved on) with an error, without running it.
 */
for (const transport of RPC_TRANSPORTS) describe(`rpc worker: requests from a superseded lease are not run [${transport}]`, () => {
  const prefix = uniquePrefix('rpcfence');
  const locationId = '00000000-0000-4000-8000-00000000f00d';
  const ran: string[] = [];
  let redis: Redis;
  let host: RpcWorkerHost;
  let client: RpcClient;

  before(async () => {
    redis = createRedis(testRedisUrl());
    host = new RpcWorkerHost({
      redisUrl: testRedisUrl(),
      prefix,
      transport,
      concurrency: 2,
      handler: async (job) => {
        ran.push(job.rpcId);
        return success(job.rpcId, { ok: true });
      },
    });
    host.start();
    await host.waitUntilReady();
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, transport, replicaId: 'fence-gw' });
    await client.start();
  });

  after(async () => {
    await client?.close();
    await host?.close();
    await redis?.del(fenceKey(prefix, locationId));
    redis?.disconnect();
  });

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
    await redis.set(fenceKey(prefix, locationId), '6');
    const res = await client.call(request('stale', 5));
    assert.ok(isFailure(res), JSON.stringify(res));
    assert.match(JSON.stringify(res), /no longer owns the location; it was not applied/);
    assert.ok(!ran.includes('stale'), 'the handler did not run');
  });

  it('runs a read carrying an older token: it changes nothing, and the sending replica fences its answer', async () => {
    await redis.set(fenceKey(prefix, locationId), '7');
    assert.equal(isFailure(await client.call(request('stale-read', 5, 'SearchOrdersV1'))), false);
    assert.ok(ran.includes('stale-read'));
    // The same token on a method that changes state is still refused.
    assert.ok(isFailure(await client.call(request('stale-write', 5, 'CreateOrderLockV1'))));
    assert.ok(!ran.includes('stale-write'));
  });
});
