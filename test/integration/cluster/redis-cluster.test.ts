import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { leaseKey } from '@app/gateway';
import { QueueName, queuePrefix, replyStreamKey } from '@app/queue';
import { uniquePrefix } from '@app/testing';
import { RedisClusterProcesses } from '../../support/redis-cluster';
import { PlatformOnRedis } from './platform-on-redis';

/**
 * Issue 17: the platform on a real Redis Cluster (three masters, three
 * replicas): two gateway replicas, the worker and the webhook apps, all with
 * REDIS_URL=redis+cluster://... Every multi-key command must stay in one hash
 * slot (a CROSSSLOT error fails these tests), and a master killed with kill -9
 * must lose no acknowledged payment.
 */
describe('Redis Cluster: request path, webhook ingest, gateway ownership, master failover', () => {
  let cluster: RedisClusterProcesses;
  let p: PlatformOnRedis;

  before(async () => {
    cluster = await RedisClusterProcesses.start();
    // A prefix that puts gw-a's reply stream on the master of the RPC queue, which the last test kills:
    // the gateway's blocked XREAD must then find the promoted replica too.
    const rpcMaster = await cluster.masterFor(`${queuePrefix('x', QueueName.Rpc)}:x`);
    let prefix: string;
    do prefix = uniquePrefix('rc');
    while ((await cluster.masterFor(replyStreamKey(prefix, 'gw-a'))) !== rpcMaster);
    p = await PlatformOnRedis.start(cluster.url, prefix, 'rediscluster');
  });

  after(async () => {
    await p?.close();
    await cluster?.stop();
  });

  it('two gateway replicas split the venues, one link each, and the request path answers', async () => {
    await p.servesEveryVenue();
    // The families really are split over the masters: the RPC queue and the leases each in one slot of their own.
    const rpcSlot = await p.redis.cluster('KEYSLOT', `${queuePrefix(p.prefix, QueueName.Rpc)}:${QueueName.Rpc}:wait`);
    const leaseSlots = new Set(await Promise.all(p.locs.map((l) => p.redis.cluster('KEYSLOT', leaseKey(p.prefix, l.id)))));
    assert.equal(leaseSlots.size, 1, 'every lease in one slot');
    assert.notEqual(rpcSlot, [...leaseSlots][0]);
  });

  it('ingests a signed webhook: stored, queued through the cluster and applied', async () => {
    await p.webhookApplied('evt_cluster_1');
  });

  /** The master of `key`'s slot killed with kill -9, while payments flow; its replica must take over. */
  async function failover(key: string): Promise<string> {
    const victim = await cluster.masterFor(key);
    return p.failoverRound(
      () => cluster.kill9(victim),
      async () => void (await cluster.waitPromoted(key, victim)),
    );
  }

  it('the RPC queue\'s master killed with kill -9: its replica takes over, no acknowledged payment is lost, every venue is served again', async () => {
    // Its master also holds the events queue and (by the choice of prefix) gw-a's reply stream.
    console.log(`failover 1 (RPC queue): ${await failover(`${queuePrefix(p.prefix, QueueName.Rpc)}:x`)}`);
    await p.assertConsistentAndServed();
  });

  it('the leases\' master killed with kill -9: leases carry on or are retaken, the venues are linked again, no payment lost', async () => {
    const before = p.locs.map((l) => p.link(l));
    console.log(`failover 2 (gateway leases): ${await failover(leaseKey(p.prefix, p.locs[0]!.id))}`);
    await p.assertConsistentAndServed();
    const relinked = p.locs.filter((l, i) => p.link(l) !== before[i]).length;
    console.log(`failover 2: ${relinked} of ${p.locs.length} venues were re-dialled`);
  });
});
