/**
 * Pay at counter's signature check on a real Redis Cluster: whether a POS
 * listens to the venue's event stream. A PUBLISH on a cluster reaches every
 * node's subscribers, but its answer counts only those of the node that ran it
 * (ioredis sends it to any node), so the count said "nobody listens" and the
 * default was answered at once while the POS had its stream open.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import type { AdminConfig } from '@app/config';
import { createLogger, createRedis } from '@app/common';
import { CounterChannels } from '@app/contracts';
import type { CounterDeps } from '@app/domain/counter';
import { AnswerCardholderSignature, CounterRepository, StartCounterTransaction, TakeCounterWork, VerifyCardholderSignature } from '@app/domain/counter';
import { RedisCounterSignals } from '@app/queue';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { CounterStreamHub } from '../../../apps/admin/src/venue/counter-stream.service';
import { RedisClusterProcesses } from '../../support/redis-cluster';
import { askNode } from '../../support/redis-nodes';

const logger = createLogger('counter-cluster-test', process.env.TEST_LOG_LEVEL ?? 'silent');

describe('pay at counter on a Redis Cluster: a POS listening on another node', () => {
  let cluster: RedisClusterProcesses;
  let db: TestDatabase;
  let redis: Redis;
  let hub: CounterStreamHub;
  let other: Redis | undefined;

  before(async () => {
    cluster = await RedisClusterProcesses.start();
    db = await createTestDatabase('countercluster');
    redis = createRedis(cluster.url);
  });

  after(async () => {
    hub?.beforeApplicationShutdown();
    other?.disconnect();
    redis?.disconnect();
    await db?.drop();
    await cluster?.stop();
  });

  it("waits for the POS's answer when its stream is subscribed on another node than the PUBLISH's", async () => {
    const prefix = uniquePrefix('cc');
    const fx = fixtures(db.prisma);
    const loc = (
      await fx.location({
        name: 'Counter',
        protocol: 'connect-pac',
        protocolSettings: { hostAddress: 'venue1', environment: 'test', installerId: 'inst-1', signatureDefault: 'decline', signatureWaitMs: 5_000 },
        registrationState: 'not_required',
      })
    ).id;
    const deps: CounterDeps = { prisma: db.prisma, signals: new RedisCounterSignals(redis, prefix, logger), log: logger };
    const s = await new StartCounterTransaction(deps).execute(loc, { idempotencyKey: 'sig-cluster', kind: 'sale', tid: 'T-1', amount: 1000n });
    await new TakeCounterWork(deps).takeWork(loc, { replicaId: 'gw', fence: 1, inFlight: [] });

    // The admin's stream hub (one open stream of the venue) on the cluster.
    hub = new CounterStreamHub({ REDIS_URL: cluster.url, QUEUE_PREFIX: prefix } as AdminConfig, logger, redis);
    const woken: (string | undefined)[] = [];
    const stop = await hub.listen(loc, (id) => woken.push(id), () => undefined);
    const channel = CounterChannels.events(prefix, loc);
    const subscribedOn = await waitFor(async () => {
      for (const n of cluster.nodes) {
        const [, count] = (await askNode(n.port, (c) => c.pubsub('NUMSUB', channel))) as [string, number];
        if (Number(count) > 0) return n;
      }
      return undefined;
    }, 'the hub subscribed on a node');
    // The signature request's PUBLISH runs on a master without that subscriber (as ioredis may send it anywhere).
    const slots = await askNode(cluster.nodes[0]!.port, (c) => c.cluster('SLOTS'));
    const masters = [...new Set(slots.map((r) => r[2]![1]))];
    const elsewhere = masters.find((p) => p !== subscribedOn.port)!;
    const onMaster = new Redis({ port: elsewhere, host: '127.0.0.1' });
    other = onMaster;
    const publishing = createRedis(cluster.url);
    publishing.publish = (ch: string, msg: string) => onMaster.publish(ch, msg);
    const signals = new RedisCounterSignals(publishing, prefix, logger);
    try {
      const verify = new VerifyCardholderSignature(signals);
      const ctx = { db: db.prisma, locationId: loc, rpcId: 'sig', traceId: 't', log: logger, now: new Date(), deadline: Date.now() + 20_000 };
      const asked = verify.execute(ctx, { tid: 'T-1' });
      // A wake alone is not the request: on a cluster a PUBLISH reaches other nodes' subscribers over the cluster bus,
      // so the work event published before the hub subscribed can wake it late. The POS answers once the request is
      // there to be read, as a stream reading Postgres after the wake would.
      const requests = new CounterRepository(db.prisma);
      await waitFor(async () => woken.length > 0 && (await requests.hasEvent(loc, s.view.id, 'signature.requested')), 'the stream woken, and signature.requested stored');
      const pos = await new AnswerCardholderSignature(deps).execute(loc, s.view.id, true);
      assert.deepEqual(pos, { accepted: true, by: 'pos' }, "the POS's answer is taken, not the default answered at once");
      assert.deepEqual(await asked, { accepted: true });
    } finally {
      stop();
      publishing.disconnect();
    }
  });
});
