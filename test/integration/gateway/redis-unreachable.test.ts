import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { leaseKey } from '@app/gateway';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServer, stopChild } from '@app/infra';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import type { RedisNode } from '../../support/redis-nodes';
import { nodeArgs, startRedisNode } from '../../support/redis-nodes';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

/** Links close a tenth of it (200 ms) before their lease lapses: room for a late timer on a busy machine. */
const LEASE_TTL_MS = 2000;

/**
 * The gateway's Redis stops answering while Dojo is still reachable (a frozen Redis: its connection stays open
 * and every command hangs, so no renewal fails either). The replica cannot renew its leases, which expire in Redis
 * (another replica may take the venues), so it must close its sockets once their validity has passed, not keep
 * them open until a frame happens to arrive. A Redis of its own for this file (frozen with SIGSTOP).
 */
describe('gateway: links close when their leases cannot be renewed', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let redis: RedisNode;
  let dir: string;
  let gateway: TestGateway | undefined;
  const keys: string[] = [];
  const ids: string[] = [];

  before(async () => {
    db = await createTestDatabase('gwredisfrozen');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    const bin = findRedisServer();
    assert.ok(bin, 'redis-server is installed');
    dir = mkdtempSync(join(tmpdir(), 'epos-redis-frozen-'));
    redis = await startRedisNode(bin, new Set(), (port) => nodeArgs(dir, port));
    const sh = await fx.softwareHouse();
    for (let i = 0; i < 3; i++) {
      const loc = await fx.location({ softwareHouseId: sh.id });
      keys.push(loc.apiKey);
      ids.push(loc.id);
    }
  });

  after(async () => {
    redis.child.kill('SIGCONT');
    await gateway?.close().catch(() => undefined); // best effort (teardown)
    await stopChild(redis.child, [['SIGTERM', 2_000], ['SIGKILL', 2_000]]);
    rmSync(dir, { recursive: true, force: true });
    await fake.close();
    await db?.drop();
  });

  it('closes every link within a lease period or so of Redis freezing, before its lease expires in Redis', async () => {
    const prefix = uniquePrefix('gwfrozen');
    gateway = await bootGateway(db, {
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      QUEUE_PREFIX: prefix,
      DOJO_WS_URL: fake.url,
      GATEWAY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      GATEWAY_PING_INTERVAL_MS: '30000',
    });
    await waitFor(() => keys.every((k) => fake.open(k).length === 1) || undefined, 'every venue connected', 20_000);
    // Frozen just after a renewal (a lease's remaining time went up), knowing when each lease then expires in Redis:
    // from that moment another replica may take the venue, so its socket must be closed by then.
    const r = new Redis(`redis://127.0.0.1:${redis.port}`);
    let expiresAt: number;
    try {
      let prev = await r.pttl(leaseKey(prefix, ids[0]!));
      for (let p = prev; p <= prev; p = await r.pttl(leaseKey(prefix, ids[0]!))) prev = p;
      const ttls = (await r.pipeline(ids.map((id) => ['pttl', leaseKey(prefix, id)])).exec())!.map(([, v]) => Number(v));
      expiresAt = Date.now() + Math.min(...ttls);
      assert.ok(ttls.every((t) => t > 0), 'every venue leased');
      redis.child.kill('SIGSTOP');
    } finally {
      r.disconnect();
    }
    const frozenAt = Date.now();
    const linksOf = (k: string) => fake.connections.filter((c) => c.apiKey === k);
    await waitFor(() => keys.every((k) => linksOf(k).every((c) => c.closedAt !== undefined)) || undefined, 'every link closed', 10_000);
    const took = Date.now() - frozenAt;
    assert.ok(took <= 2 * LEASE_TTL_MS + 1_000, `closed ${took} ms after Redis froze`);
    const closedAt = keys.map((k) => Math.max(...linksOf(k).map((c) => c.closedAt!)));
    for (const at of closedAt) assert.ok(at <= expiresAt, `a link closed ${at - expiresAt} ms after its lease expired in Redis`);
    // Redis answers again: the replica takes its venues back.
    redis.child.kill('SIGCONT');
    await waitFor(() => keys.every((k) => fake.open(k).length === 1) || undefined, 'every venue connected again', 20_000);
  });
});
