/**
 * The platform on a Redis topology other than one plain server (a Redis Cluster, Redis behind Sentinel), for the
 * failover tests (not a test file itself): two gateway replicas, the worker and the webhook apps, all with the
 * topology's REDIS_URL, four venues with an open order 'BIG', and a fake Dojo dialling them. Its checks: every venue
 * linked to its rendezvous owner, payments flowing through a failover with none acknowledged lost, webhooks applied.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { startWebhook } from '../../../apps/webhook/src/main';
import { startWorker } from '../../../apps/worker/src/main';
import type { RunningApp } from '@app/common';
import { createRedis } from '@app/common';
import { ALL_CAPABILITIES } from '@app/contracts';
import { sign } from '@app/domain/events/webhook-signature';
import { leaseKey, rendezvousOwner } from '@app/gateway';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, bounded, createTestDatabase, fixtures, waitFor } from '@app/testing';
import type { FakeConnection } from '../gateway/support/fake-dojo';
import { FakeDojo } from '../gateway/support/fake-dojo';
import type { TestGateway } from '../gateway/support/harness';
import { bootGateway } from '../gateway/support/harness';
import { GBP, seedVenue } from '../worker/fixtures';

export const REPLICAS = ['gw-a', 'gw-b'];
const WEBHOOK_SECRET = 'whsec_redis_topology_test_secret';

/** Four location ids, two owned by each replica under rendezvous hashing. */
function spreadIds(): string[] {
  const ids: string[] = [];
  while (ids.length < 4) {
    const id = randomUUID();
    if (ids.filter((x) => rendezvousOwner(x, REPLICAS) === rendezvousOwner(id, REPLICAS)).length < 2) ids.push(id);
  }
  return ids;
}

export class PlatformOnRedis {
  readonly locs: LocationFixture[] = [];
  readonly gateways: TestGateway[] = [];
  worker?: RunningApp;
  webhook?: RunningApp;
  /** Every payment Dojo got an answer for, over all rounds. */
  private readonly acknowledged = new Map<string, { locationId: string; amount: number }>();
  private round = 0;

  private constructor(
    readonly db: TestDatabase,
    readonly fake: FakeDojo,
    readonly redis: Redis,
    readonly prefix: string,
  ) {}

  static async start(redisUrl: string, prefix: string, dbName: string): Promise<PlatformOnRedis> {
    const db = await createTestDatabase(dbName);
    const fx: Fixtures = fixtures(db.prisma);
    const p = new PlatformOnRedis(db, await new FakeDojo().start(), createRedis(redisUrl), prefix);
    const sh = await fx.softwareHouse();
    for (const id of spreadIds()) {
      const loc = await fx.location({ id, softwareHouseId: sh.id, capabilities: ALL_CAPABILITIES, webhookSecrets: [WEBHOOK_SECRET] });
      await seedVenue(fx, loc.id);
      await fx.order(loc.id, { id: 'BIG', total: 100_000_000, tableId: 'T1' });
      p.locs.push(loc);
    }
    const env = (extra: Record<string, string> = {}) =>
      appEnv(db, { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, DOJO_WS_URL: p.fake.url, DOJO_API_URL: 'http://127.0.0.1:9', ...extra });
    p.worker = await startWorker(env({ EVENTS_SWEEP_INTERVAL_MS: '500', EVENTS_SWEEP_AFTER_MS: '1000' }));
    p.webhook = await startWebhook(env());
    for (const id of REPLICAS) p.gateways.push(await bootGateway(db, { ...(env() as Record<string, string>), GATEWAY_REPLICA_ID: id, GATEWAY_LEASE_TTL_MS: '3000' }));
    return p;
  }

  /** Each step bounded: an app's Redis client may still be chasing a killed master. */
  async close(): Promise<void> {
    for (const g of this.gateways) await bounded(g.close(), 10_000, 'a gateway');
    await bounded(this.worker?.close() ?? Promise.resolve(), 10_000, 'the worker');
    await bounded(this.webhook?.close() ?? Promise.resolve(), 10_000, 'the webhook app');
    this.redis.disconnect();
    await bounded(this.fake.close(), 5_000, 'the fake Dojo');
    await bounded(this.db.drop(), 15_000, 'the test database');
  }

  link(loc: LocationFixture): FakeConnection | undefined {
    const open = this.fake.open(loc.apiKey);
    return open.length === 1 ? open[0] : undefined;
  }

  async allLinked(timeoutMs = 15_000): Promise<void> {
    await waitFor(async () => {
      if (!this.locs.every((l) => this.link(l))) return false;
      const leases = await Promise.all(this.locs.map((l) => this.redis.get(leaseKey(this.prefix, l.id)).catch(() => null)));
      return this.locs.every((l, i) => leases[i]?.startsWith(`${rendezvousOwner(l.id, REPLICAS)}:`));
    }, 'one link per venue, held by its rendezvous owner', timeoutMs, 50);
  }

  call(conn: FakeConnection, method: string, params: object, id: string = randomUUID(), timeoutMs = 15_000) {
    return this.fake.request(conn, { jsonrpc: '2.0', id, method, params: { headers: {}, ...params } }, id, timeoutMs);
  }

  /** Every venue linked; each finds 'BIG' and records a first payment (pi_first_<location>). */
  async servesEveryVenue(): Promise<void> {
    await this.allLinked();
    const owners = new Set(this.locs.map((l) => rendezvousOwner(l.id, REPLICAS)));
    assert.deepEqual([...owners].sort(), REPLICAS, 'both replicas own venues');
    for (const l of this.locs) {
      const found = await this.call(this.link(l)!, 'SearchOrdersV1', { dineIn: { tableId: 'T1' }, payableOnly: true });
      assert.deepEqual(found.result?.data?.map((o: { id: string }) => o.id), ['BIG'], JSON.stringify(found));
      const paid = await this.call(this.link(l)!, 'RecordOrderPaymentByIdV1', { orderId: 'BIG', paymentIntentId: `pi_first_${l.id}`, paidAmount: GBP(100) });
      assert.ok(paid.result, JSON.stringify(paid));
    }
  }

  /** A signed webhook capturing the first venue's first payment: accepted, stored, queued and applied. */
  async webhookApplied(eventId: string): Promise<void> {
    const l = this.locs[0]!;
    const raw = JSON.stringify({
      id: eventId,
      event: 'payment_intent.status_updated',
      accountId: l.dojoAccountId,
      createdAt: new Date().toISOString(),
      data: { paymentIntentId: `pi_first_${l.id}`, paymentStatus: 'Captured', captureMode: 'Auto' },
    });
    const res = await fetch(`${this.webhook!.url}/webhooks/dojo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Dojo-Signature': sign(WEBHOOK_SECRET, raw) },
      body: raw,
    });
    assert.equal(res.status, 200, await res.text());
    await waitFor(
      async () => (await this.db.prisma.dojoEvent.findFirst({ where: { locationId: l.id, eventId } }))?.state === 'applied',
      'event applied',
      15_000,
      100,
    );
    const p = await this.db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: l.id, paymentIntentId: `pi_first_${l.id}` } } });
    assert.equal(p.intentStatus, 'Captured');
  }

  /**
   * Payments flow on every venue (Dojo's behaviour: one at a time per venue; an error or no answer is retried with
   * the same id) while `kill` takes a Redis master down; they must carry on once `recovered` says a replica took over.
   */
  async failoverRound(kill: () => Promise<void>, recovered: () => Promise<void>): Promise<string> {
    this.round++;
    const round = this.round;
    let stop = false;
    let killedAt = 0;
    let ackedAfterKill = 0;
    let acked = 0;
    const payer = async (l: LocationFixture) => {
      for (let n = 0; !stop; n++) {
        const pi = `pi_${round}_${l.id.slice(0, 8)}_${n}`;
        const id = `pay-${pi}`;
        for (;;) {
          const conn = this.link(l);
          if (!conn) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          const reply = await this.call(conn, 'RecordOrderPaymentByIdV1', { orderId: 'BIG', paymentIntentId: pi, paidAmount: GBP(100) }, id, 25_000).catch(() => undefined);
          if (reply?.result) {
            this.acknowledged.set(pi, { locationId: l.id, amount: 100 });
            acked++;
            if (killedAt && Date.now() > killedAt) ackedAfterKill++;
            break;
          }
          if (stop) return;
          if (process.env.CLUSTER_DEBUG) console.log(new Date().toISOString(), pi, JSON.stringify(reply?.error ?? 'no reply'));
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const payers = this.locs.map((l) => payer(l));
    let failoverMs: number;
    try {
      await waitFor(() => acked >= 8, 'payments flowing before the kill', 15_000, 20);
      killedAt = Date.now();
      await kill();
      await recovered();
      failoverMs = Date.now() - killedAt;
      await waitFor(() => ackedAfterKill >= 8, 'payments acknowledged after the failover', 45_000, 50);
    } finally {
      // Also when a wait fails: the payers must end, or the file hangs until the runner's timeout.
      stop = true;
    }
    await Promise.all(payers);
    return `replica promoted ${failoverMs} ms after kill -9; ${acked} payments acknowledged, ${ackedAfterKill} after the kill`;
  }

  /** No acknowledged payment lost, nothing recorded that was not asked for, totals that add up; every venue served. */
  async assertConsistentAndServed(): Promise<void> {
    const rows = await this.db.prisma.payment.findMany({ where: { paymentIntentId: { startsWith: 'pi_', not: { startsWith: 'pi_first_' } } } });
    const stored = new Map(rows.map((r) => [r.paymentIntentId, r]));
    for (const [pi, a] of this.acknowledged) {
      const row = stored.get(pi);
      assert.ok(row, `acknowledged payment ${pi} is stored`);
      assert.equal(row.locationId, a.locationId);
      assert.equal(Number(row.paidAmount), a.amount);
    }
    for (const l of this.locs) {
      const order = await this.db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: l.id, id: 'BIG' } } });
      const sum = rows.filter((r) => r.locationId === l.id).reduce((s, r) => s + Number(r.paidAmount), 0) + 100; // + pi_first
      assert.equal(Number(order.paidAmount), sum, `order totals match the stored payments at ${l.id}`);
    }
    // Every venue is linked to its owner again and answers.
    await this.allLinked(30_000);
    // Served again: a read answers, within 15 s (Dojo retries a failed read, as here). Right after a failover a
    // gateway's Redis client may still be settling onto the new master, and a read caught by it is refused
    // (nothing was applied) rather than left to its deadline.
    for (const l of this.locs) {
      let found: Awaited<ReturnType<PlatformOnRedis['call']>> | undefined;
      for (const giveUp = Date.now() + 15_000; ; ) {
        found = await this.call(this.link(l)!, 'GetOrderByIdV1', { orderId: 'BIG' }).catch(() => undefined);
        if (found?.result || Date.now() > giveUp) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(found?.result, JSON.stringify(found));
    }
  }
}
