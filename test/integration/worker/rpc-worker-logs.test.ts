import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type Redis from 'ioredis';
import pino from 'pino';
import { createRedis } from '@app/common';
import { isFailure, success } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import { fenceKey, RPC_STREAM_GROUP, RPC_TRANSPORTS, RpcClient, rpcStreamKey, RpcWorkerHost, StreamRpcSender } from '@app/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { recordingWorkerHost, rpcJob } from './fixtures';

/** A logger whose lines (parsed) land in `lines`. */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  );
  return { logger, lines };
}

/** The line with `msg` about `job`, carrying the request's location, id and trace (the log conventions). */
async function lineAbout(lines: Record<string, unknown>[], msg: RegExp, job: Pick<RpcJob, 'rpcId' | 'locationId' | 'traceId'>) {
  const found = await waitFor(() => lines.find((l) => msg.test(String(l.msg)) && l.rpcId === job.rpcId), `a log line ${String(msg)} for ${job.rpcId}`, 5_000);
  assert.equal(found.locationId, job.locationId);
  assert.equal(found.traceId, job.traceId);
  return found;
}

/** Requests a worker refuses without running them, or takes over from a dead worker, are logged with their ids. */
for (const transport of RPC_TRANSPORTS) describe(`rpc worker: what it does not run is logged per request [${transport}]`, () => {
  const prefix = uniquePrefix('rpclogs');
  const locationId = '00000000-0000-4000-8000-0000000010ae';
  const { logger, lines } = capture();
  let ran: string[] = [];
  let redis: Redis;
  let host: RpcWorkerHost;
  let client: RpcClient;

  before(async () => {
    redis = createRedis(testRedisUrl());
    ({ host, ran } = await recordingWorkerHost({ prefix, transport, logger }));
    client = new RpcClient({ redisUrl: testRedisUrl(), prefix, replicaId: 'logs-gw', transport });
    await client.start();
  });

  after(async () => {
    await client?.close();
    await host?.close();
    await redis?.del(fenceKey(prefix, locationId), client.replyTo);
    redis?.disconnect();
  });

  it('a request picked up after its deadline', async () => {
    const job = rpcJob(locationId, 'SearchOrdersV1', {}, { rpcId: 'late-1', deadline: Date.now() - 1 });
    assert.ok(isFailure(await client.call(job)), 'the gateway answers at the deadline');
    await lineAbout(lines, /after its deadline/, job);
    assert.deepEqual(ran, []);
  });

  it('a request from a connection that lost the location', async () => {
    await redis.set(fenceKey(prefix, locationId), '6');
    const job = { ...rpcJob(locationId, 'RecordOrderPaymentByIdV1', {}, { rpcId: 'stale-1' }), fence: 5 };
    assert.ok(isFailure(await client.call(job)));
    await lineAbout(lines, /no longer owns the location/, job);
    assert.deepEqual(ran, []);
  });
});

describe('rpc streams: a request taken over from a dead worker is logged with its ids', () => {
  const prefix = uniquePrefix('rpclogclaim');
  const { logger, lines } = capture();
  let redis: Redis;
  let host: RpcWorkerHost | undefined;

  before(() => {
    redis = createRedis(testRedisUrl());
  });

  after(async () => {
    await host?.close();
    await redis?.del(rpcStreamKey(prefix), `${prefix}:replies:nobody`);
    redis?.disconnect();
  });

  it('took over ... names the request', async () => {
    const job: RpcJob = { ...rpcJob('00000000-0000-4000-8000-0000000010af', 'SearchOrdersV1', {}, { rpcId: 'claimed-1', deadline: Date.now() + 10_000 }), replyTo: `${prefix}:replies:nobody` };
    // A worker that read the request and died: the entry is pending under a consumer that never answers.
    await redis.xgroup('CREATE', rpcStreamKey(prefix), RPC_STREAM_GROUP, '0', 'MKSTREAM');
    await new StreamRpcSender(redis, prefix).add('job-claimed-1', job);
    await redis.xreadgroup('GROUP', RPC_STREAM_GROUP, 'dead-worker', 'COUNT', 1, 'STREAMS', rpcStreamKey(prefix), '>');
    host = new RpcWorkerHost({ redisUrl: testRedisUrl(), prefix, transport: 'streams', claimIdleMs: 300, concurrency: 2, logger, handler: async (j) => success(j.rpcId, {}) });
    host.start();
    await host.waitUntilReady();
    await lineAbout(lines, /took over a request/, job);
  });
});
