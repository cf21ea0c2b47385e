import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import { isFailure } from '@app/contracts';
import type { RpcJob, RpcReply, RpcWorkerHost } from '@app/queue';
import { QueueName, queuePrefix, RpcClient } from '@app/queue';
import { sleep, testRedisUrl, uniquePrefix } from '@app/testing';
import { recordingWorkerHost, rpcJob } from './fixtures';

/**
 * RPC_TRANSPORT=bullmq: the gateway sends a request again when its add failed on the gateway's side (RpcClient.send),
 * which may be an add that did reach Redis. The resend uses the same job id, and must add nothing when that job has
 * already run: its completed job is kept a few seconds past the resend window, not deleted at once.
 */
describe('rpc bullmq: a resend of a request whose job already finished runs nothing', () => {
  const prefix = uniquePrefix('rpcresend');
  let ran: string[] = [];
  let redis: Redis;
  let queueConnection: Redis;
  let queue: Queue;
  let host: RpcWorkerHost;
  let client: RpcClient;

  before(async () => {
    redis = createRedis(testRedisUrl());
    ({ host, ran } = await recordingWorkerHost({ prefix, transport: 'bullmq' }));
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'resend-gw', transport: 'bullmq' });
    await client.start();
    queueConnection = createRedis(testRedisUrl(), 'command');
    queue = new Queue(QueueName.Rpc, { connection: queueConnection, prefix: queuePrefix(prefix, QueueName.Rpc) });
  });

  after(async () => {
    await client?.close();
    await host?.close();
    await queue?.close();
    queueConnection?.disconnect();
    await redis?.del(client.replyTo);
    redis?.disconnect();
  });

  it('the same job id added again after the job completed is not run again', async () => {
    const job = rpcJob('00000000-0000-4000-8000-0000000010ad', 'SearchOrdersV1', {}, { rpcId: 'resend-1', deadline: Date.now() + 10_000 });
    assert.ok(!isFailure(await client.call(job)));
    // The worker's reply names the job id the gateway gave the request.
    const [entry] = await redis.xrange(client.replyTo, '-', '+');
    const { jobId } = JSON.parse(entry![1][1]!) as RpcReply;
    // What RpcClient.send does after an add that failed on its side: the same add, same id.
    const data: RpcJob = { ...job, replyTo: client.replyTo };
    await queue.add(data.method, data, { jobId });
    await sleep(1_000);
    assert.deepEqual(ran, ['resend-1']);
  });
});
