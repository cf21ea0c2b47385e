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

/** Three times the link's 1 s close timeout, as in long-handover.test.ts. */
const LEASE_TTL_MS = 3000;
/** Replies get 1.5 s of it; closing the links and releasing the leases the rest. */
const SHUTDOWN_TIMEOUT_MS = 3000;
const VENUES = 12;

/**
 * A replica told to stop while a long handover tick runs (another replica joined; each close waits the link's 1 s
 * timeout because Dojo never answers close frames). The stop must not wait for the whole tick with its leases
 * unrenewed: they would lapse while their sockets are still open here, the other replica would take and dial them
 * (two sockets for one venue), and the stop would overrun its budget.
 */
describe('gateway: a replica stopped during a long handover', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let redis: Redis;
  let prefix: string;
  const gateways: TestGateway[] = [];
  const locs: { id: string; apiKey: string }[] = [];

  before(async () => {
    db = await createTestDatabase('gwstophandover');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    redis = new Redis(testRedisUrl());
    prefix = uniquePrefix('gwstophand');
    const sh = await fx.softwareHouse();
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

  it('keeps its leases until its sockets are closed, and stops within its budget', async () => {
    const env = {
      QUEUE_PREFIX: prefix,
      DOJO_WS_URL: fake.url,
      GATEWAY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      GATEWAY_BACKOFF_BASE_MS: '50',
      GATEWAY_BACKOFF_MAX_MS: '500',
      GATEWAY_PING_INTERVAL_MS: '30000',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    };
    const first = await bootGateway(db, { ...env, GATEWAY_REPLICA_ID: 'gw-first' });
    gateways.push(first);
    await waitFor(() => locs.every((l) => fake.open(l.apiKey).length === 1) || undefined, 'the first replica holds every venue', 20_000);
    const moving = locs.filter((l) => rendezvousOwner(l.id, ['gw-first', 'gw-second']) === 'gw-second');

    fake.ignoreCloseFrames();
    const doubles = new Set<string>();
    let took: number;
    const monitor = setInterval(() => {
      for (const l of locs) if (fake.open(l.apiKey).length > 1) doubles.add(l.id);
    }, 10);
    try {
      gateways.push(await bootGateway(db, { ...env, GATEWAY_REPLICA_ID: 'gw-second' }));
      // The first replica's tick is handing the newcomer's share over, a second per venue: stop it in the middle.
      await waitFor(() => moving.some((l) => fake.open(l.apiKey).length === 0) || undefined, 'the handover under way', 10_000, 5);
      const t0 = Date.now();
      await first.close();
      took = Date.now() - t0;
      gateways.splice(gateways.indexOf(first), 1);
      for (const l of locs) assert.ok(!(await redis.get(leaseKey(prefix, l.id)))?.startsWith('gw-first:'), 'every lease of the stopped replica released');
      const heldBySecond = async () => {
        for (const l of locs) if (!(await redis.get(leaseKey(prefix, l.id)))?.startsWith('gw-second:') || fake.open(l.apiKey).length !== 1) return undefined;
        return true;
      };
      await waitFor(heldBySecond, 'the remaining replica holds every venue', 20_000);
    } finally {
      clearInterval(monitor);
    }
    assert.deepEqual([...doubles], [], 'never two links for one venue');
    assert.ok(took < SHUTDOWN_TIMEOUT_MS, `stopped within SHUTDOWN_TIMEOUT_MS (${took} ms)`);
  });
});
