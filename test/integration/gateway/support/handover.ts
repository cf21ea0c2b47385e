import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { leaseKey, rendezvousOwner } from '@app/gateway';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, testRedisUrl, uniquePrefix } from '@app/testing';
import { FakeDojo } from './fake-dojo';
import type { TestGateway } from './harness';
import { bootGateway } from './harness';

/** The two replicas of a handover: the first holds every venue, the second joins and takes its share. */
export const FIRST = 'gw-first';
export const SECOND = 'gw-second';

/**
 * What the handover tests share: a database with `venues` venues whose ids are picked so that half move to the
 * newcomer by rendezvous (each handover then takes about 1 s) and half stay (random ids left fewer than three
 * moving about once in fifty runs), Dojo's fake, Redis and one queue prefix; the replicas it boots, closed by stop().
 */
export class HandoverRig {
  db!: TestDatabase;
  fake!: FakeDojo;
  redis!: Redis;
  prefix!: string;
  readonly gateways: TestGateway[] = [];
  readonly locs: { id: string; apiKey: string }[] = [];

  async start(name: string, venues: number): Promise<void> {
    this.db = await createTestDatabase(name);
    const fx = fixtures(this.db.prisma);
    this.fake = await new FakeDojo().start();
    this.redis = new Redis(testRedisUrl());
    this.prefix = uniquePrefix(name);
    const sh = await fx.softwareHouse();
    let moving = 0;
    while (this.locs.length < venues) {
      const id = randomUUID();
      const moves = this.moves(id);
      if (moves ? moving >= venues / 2 : this.locs.length - moving >= venues / 2) continue;
      if (moves) moving++;
      this.locs.push(await fx.location({ id, softwareHouseId: sh.id }));
    }
  }

  async stop(): Promise<void> {
    for (const g of this.gateways) await g.close().catch(() => undefined); // best effort (teardown)
    await this.fake?.close();
    this.redis?.disconnect();
    await this.db?.drop();
  }

  /** Whether the venue moves to the newcomer once it joins. */
  moves(locationId: string): boolean {
    return rendezvousOwner(locationId, [FIRST, SECOND]) === SECOND;
  }

  /** Boots a replica with a lease TTL of `leaseTtlMs`, quick reconnects and no pings in the way, plus `extra`. */
  async boot(replica: string, leaseTtlMs: number, extra: Record<string, string> = {}): Promise<TestGateway> {
    const g = await bootGateway(this.db, {
      QUEUE_PREFIX: this.prefix,
      DOJO_WS_URL: this.fake.url,
      GATEWAY_LEASE_TTL_MS: String(leaseTtlMs),
      GATEWAY_BACKOFF_BASE_MS: '50',
      GATEWAY_BACKOFF_MAX_MS: '500',
      GATEWAY_PING_INTERVAL_MS: '30000',
      ...extra,
      GATEWAY_REPLICA_ID: replica,
    });
    this.gateways.push(g);
    return g;
  }

  /** The lease's holder token of a venue (`<replica>:...`), or null. */
  lease(locationId: string): Promise<string | null> {
    return this.redis.get(leaseKey(this.prefix, locationId));
  }

  /** For waitFor: true once `replica` holds the lease of every one of `locs` and each has exactly one link open. */
  heldBy(replica: string, locs: readonly { id: string; apiKey: string }[]): () => Promise<true | undefined> {
    return async () => {
      for (const l of locs) if (!(await this.lease(l.id))?.startsWith(`${replica}:`) || this.fake.open(l.apiKey).length !== 1) return undefined;
      return true;
    };
  }
}
