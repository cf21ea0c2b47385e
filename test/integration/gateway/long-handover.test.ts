import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { leaseKey, rendezvousOwner } from '@app/gateway';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

/** Three times the link's 1 s close timeout: a renewal between two handovers comes in time, a tick of several does not. */
const LEASE_TTL_MS = 3000;
const VENUES = 12;

/**
 * A replica handing many venues over when another joins closes them one after another, each close waiting for
 * Dojo's side of the handshake (here: never, so the link's 1 s timeout). That tick lasts several lease TTLs; the
 * venues the replica keeps must stay leased to it throughout (renewed inside the tick), or another replica adopts
 * them while their sockets are still open here: two links for one venue.
 */
describe('gateway: a long handover keeps the leases of the venues the replica keeps', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let redis: Redis;
  let prefix: string;
  const gateways: TestGateway[] = [];
  const locs: { id: string; apiKey: string }[] = [];

  before(async () => {
    db = await createTestDatabase('gwlonghandover');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    redis = new Redis(testRedisUrl());
    prefix = uniquePrefix('gwlong');
    const sh = await fx.softwareHouse();
    // Half the venues move to the newcomer (each handover then takes about 1 s) and half stay. The ids are picked
    // for that split: random ones left fewer than three moving about once in fifty runs.
    let moving = 0;
    while (locs.length < VENUES) {
      const id = randomUUID();
      const moves = rendezvousOwner(id, ['gw-first', 'gw-second']) === 'gw-second';
      if (moves ? moving >= VENUES / 2 : locs.length - moving >= VENUES / 2) continue;
      if (moves) moving++;
      locs.push(await fx.location({ id, softwareHouseId: sh.id }));
    }
  });

  after(async () => {
    for (const g of gateways) await g.close().catch(() => undefined); // best effort (teardown)
    await fake.close();
    redis.disconnect();
    await db?.drop();
  });

  it('no venue is adopted by the newcomer while the first replica still holds its socket', async () => {
    const env = {
      QUEUE_PREFIX: prefix,
      DOJO_WS_URL: fake.url,
      GATEWAY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      GATEWAY_BACKOFF_BASE_MS: '50',
      GATEWAY_BACKOFF_MAX_MS: '500',
      GATEWAY_PING_INTERVAL_MS: '30000',
    };
    gateways.push(await bootGateway(db, { ...env, GATEWAY_REPLICA_ID: 'gw-first' }));
    await waitFor(() => locs.every((l) => fake.open(l.apiKey).length === 1) || undefined, 'the first replica holds every venue', 20_000);
    const moving = locs.filter((l) => rendezvousOwner(l.id, ['gw-first', 'gw-second']) === 'gw-second');
    const staying = locs.filter((l) => !moving.includes(l));
    assert.ok(moving.length >= 3 && staying.length >= 2, `a split worth testing: ${moving.length} move, ${staying.length} stay`);

    // Dojo stops finishing close handshakes on the open links: each handover now takes the link's 1 s timeout.
    fake.ignoreCloseFrames();
    const doubles = new Set<string>();
    const lapsed = new Set<string>();
    const firstToken = new Map<string, string | null>();
    for (const l of staying) firstToken.set(l.id, await redis.get(leaseKey(prefix, l.id)));
    const monitor = setInterval(() => {
      for (const l of locs) if (fake.open(l.apiKey).length > 1) doubles.add(l.id);
      void Promise.all(staying.map(async (l) => ((await redis.get(leaseKey(prefix, l.id))) !== firstToken.get(l.id) ? lapsed.add(l.id) : undefined)));
    }, 20);
    try {
      gateways.push(await bootGateway(db, { ...env, GATEWAY_REPLICA_ID: 'gw-second' }));
      // The handovers take about a second each, longer in all than a lease TTL.
      const heldBySecond = async () => {
        for (const l of moving) if (!(await redis.get(leaseKey(prefix, l.id)))?.startsWith('gw-second:') || fake.open(l.apiKey).length !== 1) return undefined;
        return true;
      };
      await waitFor(heldBySecond, 'the newcomer holds its share', 30_000);
      // Past the time the newcomer would have adopted a lapsed venue (two TTLs after seeing it free).
      await new Promise((r) => setTimeout(r, 2 * LEASE_TTL_MS + 500));
    } finally {
      clearInterval(monitor);
    }
    assert.deepEqual([...lapsed], [], "the first replica's kept venues stayed leased to it with the same token");
    assert.deepEqual([...doubles], [], 'never two links for one venue');
    for (const l of staying) assert.equal(fake.open(l.apiKey).length, 1);
  });
});
