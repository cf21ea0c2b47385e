import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createLogger } from '@app/common';
import { gatewayEnv, loadConfig } from '@app/config';
import { SecretBox } from '@app/db';
import { defaultProfiles, GatewayManager, gatewayManagerOptions, leaseKey, LocationSource, rendezvousOwner } from '@app/gateway';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, sleep, TEST_ENCRYPTION_KEY, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

const LEASE_TTL_MS = 1000;
const VENUES = 8;

/**
 * A replica that is alive (in the member list) but never takes its share: here an older build without the venues'
 * connection profile, as during a rollout (a replica whose location reads fail is another). Another replica adopts
 * those orphans after two lease periods; it must then keep them, not hand them back to the rendezvous owner on its
 * next heartbeat (which never takes them either), or each venue flaps: closed, two lease periods without a link,
 * adopted again.
 */
describe('gateway: an adopted orphan stays with its adopter', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let prefix: string;
  let old: GatewayManager | undefined;
  let redis: Redis[] = [];
  let current: TestGateway | undefined;
  const locs: { id: string; apiKey: string }[] = [];

  before(async () => {
    db = await createTestDatabase('gworphan');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    prefix = uniquePrefix('gworphan');
    const sh = await fx.softwareHouse();
    let olds = 0;
    while (locs.length < VENUES) {
      const id = randomUUID();
      const ofOld = rendezvousOwner(id, ['gw-new', 'gw-old']) === 'gw-old';
      if (ofOld ? olds >= VENUES / 2 : locs.length - olds >= VENUES / 2) continue;
      if (ofOld) olds++;
      locs.push(await fx.location({ id, softwareHouseId: sh.id }));
    }
  });

  after(async () => {
    await old?.stop().catch(() => undefined); // best effort (teardown)
    await current?.close().catch(() => undefined);
    for (const r of redis) r.disconnect();
    await fake.close();
    await db?.drop();
  });

  it('keeps the venues it adopted connected, without flapping', async () => {
    const env = { QUEUE_PREFIX: prefix, DOJO_WS_URL: fake.url, GATEWAY_LEASE_TTL_MS: String(LEASE_TTL_MS), GATEWAY_PING_INTERVAL_MS: '30000' };
    // The older replica: no epos-data profile, so it never takes the venues it is the rendezvous owner of.
    const profiles = defaultProfiles();
    profiles.delete('epos-data');
    redis = [new Redis(testRedisUrl()), new Redis(testRedisUrl())];
    old = new GatewayManager(gatewayManagerOptions(loadConfig(gatewayEnv, appEnv(db, env)), 'gw-old'), {
      redis: redis[0]!,
      subscriber: redis[1]!,
      rpc: { start: async () => undefined, close: async () => undefined, call: async () => Promise.reject(new Error('no requests in this test')) },
      locations: new LocationSource(db.prisma, new SecretBox(TEST_ENCRYPTION_KEY)),
      profiles,
      logger: createLogger('gw-old', 'silent'),
    });
    await old.start();
    current = await bootGateway(db, { ...env, GATEWAY_REPLICA_ID: 'gw-new' });
    const ofOld = locs.filter((l) => rendezvousOwner(l.id, ['gw-new', 'gw-old']) === 'gw-old');
    assert.ok(ofOld.length > 0);
    // Two lease periods after it saw them free, the current replica adopts the older one's share.
    await waitFor(() => locs.every((l) => fake.open(l.apiKey).length === 1) || undefined, 'every venue connected', 15_000);
    const dials = () => locs.map((l) => fake.connections.filter((c) => c.apiKey === l.apiKey).length);
    const before = dials();
    let gaps = 0;
    const monitor = setInterval(() => {
      for (const l of locs) if (fake.open(l.apiKey).length !== 1) gaps++;
    }, 20);
    try {
      // Several heartbeats and more than two lease periods: a venue handed back would be closed and adopted again.
      await sleep(4 * LEASE_TTL_MS);
    } finally {
      clearInterval(monitor);
    }
    assert.equal(gaps, 0, 'every venue stayed connected');
    assert.deepEqual(dials(), before, 'no venue was dialled again');
    for (const l of ofOld) assert.ok((await redis[0]!.get(leaseKey(prefix, l.id)))?.startsWith('gw-new:'), 'the adopter holds the lease');
    assert.deepEqual(old.ownedLocationIds(), []);
  });
});
