import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWebhook } from '../../../apps/webhook/src/main';
import type { RunningApp } from '@app/common';
import { createLogger } from '@app/common';
import type { DojoEventPayload } from '@app/contracts';
import { applyPendingEventsForIntent } from '@app/domain/events/apply-pending-events';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { BullmqEventEnqueuer, DojoEventsWorker } from '@app/queue';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { sign } from '@app/domain/events/webhook-signature';
import { ordersRepo } from '@app/domain/repositories/orders.repository';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { eventPayload } from './fixtures';

const SECRET = 'exactly-once-secret';
const INTENTS = 64; // 2 per order
const UNDO = ['Refunded', 'Canceled', 'Reversed', null] as const;
const LATE_RECORDED = 8; // intents whose payment is recorded only after their events arrived

/** Deterministic PRNG so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('Dojo events: exactly-once effects from at-least-once delivery over both channels', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let webhook: RunningApp;
  let loc: LocationFixture;
  let enqueuer: BullmqEventEnqueuer;
  let ingest: IngestDojoEvent;
  const workers: DojoEventsWorker[] = [];
  const prefix = uniquePrefix('evx1');
  const logger = createLogger('events-test', process.env.TEST_LOG_LEVEL ?? 'silent');

  before(async () => {
    db = await createTestDatabase('events-once');
    fx = fixtures(db.prisma);
    loc = await fx.location({ webhookSecrets: [{ value: SECRET }] });
    webhook = await startWebhook(appEnv(db, { QUEUE_PREFIX: prefix }));
    enqueuer = new BullmqEventEnqueuer({ redisUrl: testRedisUrl(), prefix });
    ingest = new IngestDojoEvent(new DojoEventsRepository(db.prisma), enqueuer, logger);
    // Two "replicas" of the events worker.
    for (let i = 0; i < 2; i++) {
      const w = new DojoEventsWorker({ redisUrl: testRedisUrl(), prefix, concurrency: 4 }, new ApplyDojoEvent(db.prisma, logger), logger);
      w.start();
      await w.waitUntilReady();
      workers.push(w);
    }
  });

  after(async () => {
    for (const w of workers) await w.close();
    await enqueuer?.close();
    await webhook?.close();
    await db?.drop();
  });

  it('applies each event once and ends with the right payment and order states', async () => {
    const random = rng(20261121);
    const t0 = Date.parse('2026-11-21T09:00:00.000Z');
    const intent = (i: number) => `pi_${String(i).padStart(3, '0')}`;
    const orderOf = (i: number) => `ord_${Math.floor(i / 2)}`;
    const undoOf = (i: number) => UNDO[i % UNDO.length];
    const late = (i: number) => i % (INTENTS / LATE_RECORDED) === 1; // 8 intents

    for (let o = 0; o < INTENTS / 2; o++) await fx.order(loc.id, { id: `ord_${o}`, total: 1000 });
    for (let i = 0; i < INTENTS; i++) if (!late(i)) await fx.payment(loc.id, orderOf(i), { paymentIntentId: intent(i), amount: 500 });
    for (let o = 0; o < INTENTS / 2; o++) {
      await db.prisma.$transaction((tx) => ordersRepo(tx).recomputePaid(loc.id, `ord_${o}`));
    }

    // The events of each intent: created, authorized, captured, maybe an undo, and a send-receipt.
    const events: DojoEventPayload[] = [];
    for (let i = 0; i < INTENTS; i++) {
      const at = (s: number) => new Date(t0 + i * 60_000 + s * 1000);
      events.push(eventPayload(loc.dojoAccountId, `evt_${i}_c`, 'payment_intent.created', intent(i), 'Created', at(0)));
      events.push(eventPayload(loc.dojoAccountId, `evt_${i}_a`, 'payment_intent.status_updated', intent(i), 'Authorized', at(1)));
      events.push(eventPayload(loc.dojoAccountId, `evt_${i}_p`, 'payment_intent.status_updated', intent(i), 'Captured', at(2)));
      events.push(eventPayload(loc.dojoAccountId, `evt_${i}_r`, 'payment_intent.send-receipt', intent(i), 'Captured', at(3)));
      const undo = undoOf(i);
      if (undo) events.push(eventPayload(loc.dojoAccountId, `evt_${i}_u`, 'payment_intent.status_updated', intent(i), undo, at(4)));
    }
    // Each event two or three times, shuffled, each delivery by webhook or by socket.
    const sends = new Map<string, number>();
    const deliveries: Array<{ payload: DojoEventPayload; channel: 'webhook' | 'socket' }> = [];
    for (const e of events) {
      const n = random() < 0.5 ? 2 : 3;
      sends.set(e.id, n);
      for (let k = 0; k < n; k++) deliveries.push({ payload: e, channel: random() < 0.5 ? 'webhook' : 'socket' });
    }
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    assert.ok(events.length >= 250, `a few hundred events (${events.length})`);

    let next = 0;
    const deliverOne = async (d: (typeof deliveries)[number]) => {
      if (d.channel === 'socket') {
        await ingest.execute({ payload: d.payload, channel: 'socket', locationId: loc.id });
        return;
      }
      const raw = JSON.stringify(d.payload);
      const res = await fetch(`${webhook.url}/webhooks/dojo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'dojo-signature': sign(SECRET, raw) },
        body: raw,
      });
      assert.equal(res.status, 200, await res.text());
    };
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < deliveries.length) await deliverOne(deliveries[next++]!);
      }),
    );

    // Everything stored once, every delivery counted.
    const rows = await db.prisma.dojoEvent.findMany({ where: { locationId: loc.id } });
    assert.equal(rows.length, events.length);
    for (const r of rows) assert.equal(r.deliveries, sends.get(r.eventId), `deliveries of ${r.eventId}`);

    const lateIntents = new Set(Array.from({ length: INTENTS }, (_, i) => i).filter(late).map(intent));
    await waitFor(
      async () => (await db.prisma.dojoEvent.count({ where: { locationId: loc.id, state: { in: ['received', 'queued'] } } })) === 0,
      'all events processed',
      45_000,
      100,
    );
    const pending = await db.prisma.dojoEvent.findMany({ where: { state: 'pending_payment' } });
    assert.deepEqual(new Set(pending.map((p) => p.paymentIntentId)), lateIntents, 'events of unrecorded intents are kept');

    // The late payments are recorded now (as RecordOrderPayment does): the kept events apply in that transaction.
    for (let i = 0; i < INTENTS; i++) {
      if (!late(i)) continue;
      await db.prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT 1 FROM orders WHERE location_id = ${loc.id}::uuid AND id = ${orderOf(i)} FOR UPDATE`;
        await tx.payment.create({ data: { locationId: loc.id, orderId: orderOf(i), paymentIntentId: intent(i), currency: 'GBP', paidAmount: 500n } });
        await applyPendingEventsForIntent(tx, loc.id, intent(i), logger);
        await ordersRepo(tx).recomputePaid(loc.id, orderOf(i));
      });
    }
    assert.equal(await db.prisma.dojoEvent.count({ where: { state: { not: 'applied' } } }), 0, 'every event applied');

    // Final payment states: the undo (highest rank) wins whatever the arrival order; otherwise Captured.
    const payments = await db.prisma.payment.findMany({ where: { locationId: loc.id } });
    assert.equal(payments.length, INTENTS);
    for (const p of payments) {
      const i = Number(p.paymentIntentId.slice(3));
      const undo = undoOf(i);
      assert.equal(p.intentStatus, undo ?? 'Captured', `intent status of ${p.paymentIntentId}`);
      assert.equal(p.state, undo ?? 'Recorded', `state of ${p.paymentIntentId}`);
    }

    // Orders: paid = the payments still recorded; payable again when something was undone.
    const orders = await db.prisma.order.findMany({ where: { locationId: loc.id } });
    for (const o of orders) {
      const recorded = payments.filter((p) => p.orderId === o.id && p.state === 'Recorded').length;
      assert.equal(o.paidAmount, BigInt(500 * recorded), `paid amount of ${o.id}`);
      assert.equal(o.payable, recorded < 2, `payable of ${o.id}`);
    }

    // Exactly once: one event.received per event, one OrderUpdated and one undo payment.updated per undone payment.
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id } });
    const received = feed.filter((f) => f.kind === 'event.received');
    assert.equal(received.length, events.length);
    assert.equal(new Set(received.map((f) => f.entityId)).size, events.length);
    const undone = payments.filter((p) => p.state !== 'Recorded');
    const undoFeed = feed.filter((f) => f.kind === 'payment.updated' && (f.data as { state: string }).state !== 'Recorded');
    assert.equal(undoFeed.length, undone.length);
    const outbox = await db.prisma.outboxEvent.findMany({ where: { locationId: loc.id, eventType: 'OrderUpdated' } });
    assert.equal(outbox.length, undone.length);
    for (const p of undone) {
      assert.equal(outbox.filter((e) => e.entityId === p.orderId).length, undone.filter((u) => u.orderId === p.orderId).length);
    }
  });
});
