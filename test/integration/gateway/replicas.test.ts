import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Channels } from '@app/contracts';
import { leaseKey, membersKey, rendezvousOwner } from '@app/gateway';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway, getStatus } from './support/harness';

const LEASE_TTL_MS = 1000;
const TRIO = ['gw-a', 'gw-b', 'gw-child'];

/**
 * Nine location ids that rendezvous hashing spreads three to each of gw-a, gw-b
 * and gw-child, and of which gw-c (the later newcomer) wins at least one. With
 * random ids the child owned nothing about one run in forty, and the tests that
 * move the child's venues would have had nothing to check.
 */
function spreadIds(): string[] {
  for (;;) {
    const ids: string[] = [];
    const owned = (owner: string) => ids.filter((id) => rendezvousOwner(id, TRIO) === owner).length;
    while (ids.length < 9) {
      const id = randomUUID();
      if (owned(rendezvousOwner(id, TRIO)!) < 3) ids.push(id);
    }
    if (ids.some((id) => rendezvousOwner(id, ['gw-a', 'gw-b', 'gw-c']) === 'gw-c')) return ids;
  }
}

describe('gateway replicas: one connection per location, failover, rebalancing, fencing', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let redis: Redis;
  let prefix: string;
  let env: Record<string, string>;
  let child: ChildProcess | undefined;
  const inProcess = new Map<string, TestGateway>();
  const locs: { id: string; apiKey: string }[] = [];
  let monitor: NodeJS.Timeout | undefined;
  const doubles: string[] = [];
  let allowDoubleUntil = 0;

  before(async () => {
    db = await createTestDatabase('gwreplicas');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    redis = new Redis(testRedisUrl());
    prefix = uniquePrefix('gwrep');
    const sh = await fx.softwareHouse();
    for (const id of spreadIds()) locs.push(await fx.location({ id, softwareHouseId: sh.id }));
    env = {
      QUEUE_PREFIX: prefix,
      DOJO_WS_URL: fake.url,
      GATEWAY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      GATEWAY_BACKOFF_BASE_MS: '50',
      GATEWAY_BACKOFF_MAX_MS: '500',
      GATEWAY_RESYNC_MS: '5000',
    };
    // Never two open links for one location (outside a deliberate pause, checked separately).
    monitor = setInterval(() => {
      if (Date.now() < allowDoubleUntil) return;
      for (const l of locs) if (fake.open(l.apiKey).length > 1) doubles.push(l.id);
    }, 10);
  });

  after(async () => {
    if (monitor) clearInterval(monitor);
    child?.kill('SIGKILL');
    for (const g of inProcess.values()) await g.close().catch(() => undefined); // best effort (teardown)
    await fake.close();
    redis.disconnect();
    await db.drop();
  });

  async function members(): Promise<string[]> {
    return (await redis.zrangebyscore(membersKey(prefix), Date.now(), '+inf')).sort();
  }

  function holderOf(apiKey: string): FakeConnection | undefined {
    const open = fake.open(apiKey);
    return open.length === 1 ? open[0] : undefined;
  }

  /** Waits until every enabled location has exactly one open link and ownership matches rendezvous over `expected`. */
  async function converged(expected: string[], enabled = locs, timeoutMs = 8_000) {
    await waitFor(async () => {
      if (JSON.stringify(await members()) !== JSON.stringify([...expected].sort())) return false;
      if (!enabled.every((l) => holderOf(l.apiKey))) return false;
      const leases = await Promise.all(enabled.map((l) => redis.get(leaseKey(prefix, l.id))));
      return enabled.every((l, i) => leases[i]?.startsWith(`${rendezvousOwner(l.id, expected)}:`));
    }, `convergence on ${expected.join(',')}`, timeoutMs, 50);
  }

  function startChild(id: string): ChildProcess {
    const main = join(__dirname, '../../../apps/gateway/src/main.js');
    const p = spawn(process.execPath, [main], {
      env: { ...process.env, ...appEnv(db, { ...env, GATEWAY_REPLICA_ID: id }) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return p;
  }

  it('spreads locations over three replicas (one a real process) with exactly one link each', async () => {
    child = startChild('gw-child');
    for (const id of ['gw-a', 'gw-b']) inProcess.set(id, await bootGateway(db, { ...env, GATEWAY_REPLICA_ID: id }));
    await converged(TRIO, locs, 15_000);
    await sleep(500);
    // The real process owns its share: three leases in its name, one open link each.
    const childLocs = locs.filter((l) => rendezvousOwner(l.id, TRIO) === 'gw-child');
    assert.equal(childLocs.length, 3, 'the ids give the child process three locations');
    const childLeases = await Promise.all(childLocs.map((l) => redis.get(leaseKey(prefix, l.id))));
    assert.ok(childLeases.every((v) => v?.startsWith('gw-child:')), `the child holds its leases: ${childLeases.join(', ')}`);
    assert.ok(childLocs.every((l) => holderOf(l.apiKey)), 'the child has one open link per location it owns');
    assert.deepEqual(doubles, [], 'never two links for one location');
    assert.equal(fake.connections.length, locs.length + fake.connections.filter((c) => c.closedAt).length);
    const a = await getStatus(inProcess.get('gw-a')!);
    const expectA = locs.filter((l) => rendezvousOwner(l.id, ['gw-a', 'gw-b', 'gw-child']) === 'gw-a').map((l) => l.id).sort();
    assert.deepEqual(a.locations.filter((s: any) => s.state === 'open').map((s: any) => s.locationId).sort(), expectA);
  });

  it('fences a paused replica: its venues move on, and after resuming it steps down instead of keeping a second link', async () => {
    const childLocs = locs.filter((l) => rendezvousOwner(l.id, TRIO) === 'gw-child');
    assert.ok(childLocs.length > 0, 'the paused replica owns locations (else this test checks nothing)');
    const oldLinks = childLocs.map((l) => holderOf(l.apiKey)!);
    allowDoubleUntil = Number.MAX_SAFE_INTEGER;
    child!.kill('SIGSTOP');
    // Its membership and leases expire; the others take its venues (the paused process still has its TCP sockets).
    await waitFor(async () => {
      const leases = await Promise.all(childLocs.map((l) => redis.get(leaseKey(prefix, l.id))));
      return leases.every((v) => v && !v.startsWith('gw-child:'));
    }, 'leases taken over', 8_000, 50);
    await waitFor(() => childLocs.every((l) => fake.open(l.apiKey).some((c) => !oldLinks.includes(c))), 'new links', 5_000);
    const resumed = Date.now();
    child!.kill('SIGCONT');
    await waitFor(() => oldLinks.every((c) => c.closedAt !== undefined), 'the resumed replica closes its stale links', 3_000);
    const stepDownMs = Math.max(...oldLinks.map((c) => c.closedAt!)) - resumed;
    assert.ok(stepDownMs < 1_500, `stale owner stepped down in ${stepDownMs} ms`);
    allowDoubleUntil = 0;
    await converged(['gw-a', 'gw-b', 'gw-child']);
    assert.deepEqual(doubles, []);
  });

  it('fails over within the bound after kill -9 of a replica', async () => {
    const childLocs = locs.filter((l) => rendezvousOwner(l.id, TRIO) === 'gw-child');
    assert.ok(childLocs.length > 0, 'the killed replica owns locations (else this test checks nothing)');
    const killed = Date.now();
    child!.kill('SIGKILL');
    child = undefined;
    await converged(['gw-a', 'gw-b'], locs, 15_000);
    const took = Date.now() - killed;
    assert.ok(took < LEASE_TTL_MS * 3 + 2_000, `failover in ${took} ms`);
    for (const l of childLocs) assert.ok(holderOf(l.apiKey), `${l.id} is served again`);
    assert.deepEqual(doubles, []);
  });

  it('rebalances when a replica joins, moving only its share', async () => {
    const before = new Map(locs.map((l) => [l.id, holderOf(l.apiKey)!]));
    inProcess.set('gw-c', await bootGateway(db, { ...env, GATEWAY_REPLICA_ID: 'gw-c' }));
    await converged(['gw-a', 'gw-b', 'gw-c']);
    const moved = locs.filter((l) => before.get(l.id) !== holderOf(l.apiKey)).map((l) => l.id).sort();
    const cShare = locs.filter((l) => rendezvousOwner(l.id, ['gw-a', 'gw-b', 'gw-c']) === 'gw-c').map((l) => l.id).sort();
    assert.ok(cShare.length > 0, 'the newcomer wins some locations (else nothing moves)');
    assert.deepEqual(moved, cShare, 'only the newcomer’s share reconnected');
    assert.deepEqual(doubles, []);
  });

  it('a location change reaches its owner within 5 s', async () => {
    const target = locs[0]!;
    await db.prisma.location.update({ where: { id: target.id }, data: { enabled: false, configVersion: { increment: 1 } } });
    const t0 = Date.now();
    await redis.publish(Channels.locationChanged(prefix), JSON.stringify({ locationId: target.id, configVersion: 0 }));
    await waitFor(() => fake.open(target.apiKey).length === 0, 'disabled location closed', 5_000);
    assert.ok(Date.now() - t0 < 5_000);
    await db.prisma.location.update({ where: { id: target.id }, data: { enabled: true, configVersion: { increment: 1 } } });
    await redis.publish(Channels.locationChanged(prefix), JSON.stringify({ locationId: target.id, configVersion: 0 }));
    await waitFor(() => fake.open(target.apiKey).length === 1, 're-enabled location dialled', 5_000);
    assert.deepEqual(doubles, []);
  });
});
