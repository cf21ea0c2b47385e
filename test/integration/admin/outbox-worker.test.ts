import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import { enqueuePosEvent } from '@app/domain';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor, sleep } from '@app/testing';
import { startWorker } from '../../../apps/worker/src/main';
import { DojoStandIn } from './support/dojo-stand-in';
import { sandboxKey } from './support/helpers';

describe('outbox dispatcher in the worker app', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let worker: RunningApp;
  let locationId: string;
  let key: string;

  before(async () => {
    db = await createTestDatabase('outboxwk');
    dojo = await new DojoStandIn().start();
    key = sandboxKey();
    locationId = '0b8a1a9e-5c1e-4a57-9d59-3a3c3b0f0a01';
    await fixtures(db.prisma).location({ id: locationId, name: 'V', dojoAccountId: 'acc_outbox', apiKey: key, capabilities: [] });
    worker = await startWorker(
      appEnv(db, { DOJO_API_URL: dojo.url, QUEUE_PREFIX: uniquePrefix('outbox'), OUTBOX_POLL_MS: '20', OUTBOX_BACKOFF_BASE_MS: '100', OUTBOX_BACKOFF_MAX_MS: '200' }),
    );
  });

  after(async () => {
    await worker?.close();
    await dojo?.stop();
    await db?.drop();
  });

  const events = () => dojo.find((r) => r.path === '/epos/events');

  it('sends POS events with the location key, in order per entity, holding later ones back while the first fails', async () => {
    let failX = true;
    const stop = dojo.respond((r) => (failX && r.path === '/epos/events' && r.body?.event?.orderId === 'X' ? { status: 503 } : undefined));
    await enqueuePosEvent(db.prisma, locationId, 'OrderUpdated', 'X', { orderId: 'X' });
    await enqueuePosEvent(db.prisma, locationId, 'PartyUpdated', 'P', { partyId: 'P' });
    await enqueuePosEvent(db.prisma, locationId, 'OrderUpdated', 'X', { orderId: 'X' });

    await waitFor(() => events().some((e) => e.body.event.partyId === 'P'), 'the party event (another entity) goes out');
    const p = events().find((e) => e.body.event.partyId === 'P')!;
    assert.deepEqual(p.body, { eventType: 'PartyUpdated', event: { partyId: 'P' } });
    assert.equal(p.headers.authorization, `Basic ${key}`);
    assert.equal(p.headers.version, '2026-02-27');
    await waitFor(async () => (await db.prisma.outboxEvent.findFirst({ where: { entityId: 'X', attempts: { gte: 2 } } })) !== null, 'X retried');
    const xRows = await db.prisma.outboxEvent.findMany({ where: { entityId: 'X' }, orderBy: { id: 'asc' } });
    assert.equal(xRows[1]!.attempts, 0, 'the later X event waits for the first');
    assert.equal(xRows[0]!.state, 'pending');
    assert.match(xRows[0]!.lastError ?? '', /503/);

    failX = false;
    stop();
    await waitFor(async () => (await db.prisma.outboxEvent.count({ where: { state: 'pending' } })) === 0, 'outbox drained');
    const sentX = events().filter((e) => e.body.event.orderId === 'X' && e.at > 0);
    assert.ok(sentX.length >= 1);
    const rows = await db.prisma.outboxEvent.findMany({ orderBy: { id: 'asc' } });
    assert.ok(rows.every((r) => r.state === 'sent' && r.sentAt));
  });

  it("a location whose key does not decrypt fails its own events only: the rest of the pass is sent", async () => {
    const broken = '0b8a1a9e-5c1e-4a57-9d59-3a3c3b0f0a02';
    await fixtures(db.prisma).location({ id: broken, name: 'W', dojoAccountId: 'acc_outbox_broken', apiKey: sandboxKey(), capabilities: [] });
    // Stored with a key this worker's key ring does not hold.
    await db.prisma.location.update({ where: { id: broken }, data: { apiKeyCiphertext: new Uint8Array(randomBytes(64)) } });
    await enqueuePosEvent(db.prisma, broken, 'OrderUpdated', 'B1', { orderId: 'B1' });
    await enqueuePosEvent(db.prisma, locationId, 'OrderUpdated', 'G1', { orderId: 'G1' });
    const t0 = Date.now();
    await waitFor(() => events().some((e) => e.body.event.orderId === 'G1'), 'the other location is served', 10_000);
    assert.ok(Date.now() - t0 < 10_000, 'not held back by the claim lease (60 s)');
    await waitFor(async () => (await db.prisma.outboxEvent.findFirst({ where: { locationId: broken, entityId: 'B1', attempts: { gte: 1 } } })) ?? undefined, 'its failure counted');
    const row = await db.prisma.outboxEvent.findFirstOrThrow({ where: { locationId: broken, entityId: 'B1' } });
    assert.match(row.lastError ?? '', /does not decrypt/);
    assert.ok(!events().some((e) => e.body.event.orderId === 'B1'), 'nothing sent without its key');
  });

  it('makes an event Dojo refuses as malformed a dead letter at once, without blocking the entity', async () => {
    const stop = dojo.respond((r) => (r.path === '/epos/events' && r.body?.event?.reservationId === 'bad' ? { status: 400, body: { title: 'bad' } } : undefined));
    await enqueuePosEvent(db.prisma, locationId, 'ReservationUpdated', 'bad', { reservationId: 'bad' });
    await waitFor(async () => (await db.prisma.outboxEvent.findFirst({ where: { entityId: 'bad', state: 'dead', attempts: 1, deadAt: { not: null } } })) !== null, 'dead');
    stop();
    await enqueuePosEvent(db.prisma, locationId, 'ReservationUpdated', 'bad', { reservationId: 'bad' });
    await waitFor(async () => (await db.prisma.outboxEvent.findFirst({ where: { entityId: 'bad', state: 'sent' } })) !== null, 'next one sent');
    await sleep(10);
  });

  it("a 429 with Retry-After holds up nothing: it is not slept on in the call, and the next events go out at once", async () => {
    const stop = dojo.respond((r) => (r.path === '/epos/events' && r.body?.event?.orderId === 'RL' ? { status: 429, headers: { 'retry-after': '30' } } : undefined));
    try {
      await enqueuePosEvent(db.prisma, locationId, 'OrderUpdated', 'RL', { orderId: 'RL' });
      await waitFor(() => events().some((e) => e.body.event.orderId === 'RL') || undefined, 'the rate-limited event is tried');
      const t0 = Date.now();
      await enqueuePosEvent(db.prisma, locationId, 'OrderUpdated', 'AFTER-RL', { orderId: 'AFTER-RL' });
      await waitFor(() => events().some((e) => e.body.event.orderId === 'AFTER-RL') || undefined, 'the next event goes out', 15_000);
      assert.ok(Date.now() - t0 < 15_000, `sent ${Date.now() - t0} ms later, not after the 30 s Retry-After`);
      const rl = await db.prisma.outboxEvent.findFirstOrThrow({ where: { entityId: 'RL' } });
      assert.equal(rl.state, 'pending');
      assert.match(rl.lastError ?? '', /429/);
    } finally {
      stop();
    }
  });
});
