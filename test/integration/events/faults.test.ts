import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebhook } from '../../../apps/webhook/src/main';
import type { RunningApp } from '@app/common';
import { createLogger } from '@app/common';
import type { PrismaClient } from '@app/db';
import { createPrisma, migrate } from '@app/db';
import { DojoEventsSweeper } from '@app/domain/events/dojo-events-sweeper';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { BullmqEventEnqueuer, DojoEventsWorker } from '@app/queue';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { sign } from '@app/domain/events/webhook-signature';
import { ordersRepo } from '@app/domain/repositories/orders.repository';
import type { Stack } from '@app/infra';
import { startStack } from '@app/infra';
import type { Fixtures, LocationFixture } from '@app/testing';
import { fixtures, sleep, TEST_ENCRYPTION_KEY, uniquePrefix, waitFor } from '@app/testing';
import { eventPayload } from './fixtures';

const SECRET = 'fault-secret';

describe('Dojo events under faults (private Postgres and Redis)', () => {
  let dir: string;
  let stack: Stack;
  let prisma: PrismaClient;
  let fx: Fixtures;
  let webhook: RunningApp;
  let worker: DojoEventsWorker;
  let enqueuer: BullmqEventEnqueuer;
  let sweeper: DojoEventsSweeper;
  let loc: LocationFixture;
  const prefix = uniquePrefix('evflt');
  const logger = createLogger('events-fault-test', process.env.TEST_LOG_LEVEL ?? 'silent');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'epos-events-fault-'));
    chmodSync(dir, 0o777); // initdb may run as the postgres user
    stack = await startStack({ env: { EPOS_RELAY_NO_DOCKER: '1', EPOS_RELAY_NO_APT: '1' }, persistent: true, postgresDataDir: join(dir, 'pg') });
    assert.ok(stack.postgres && stack.redis, 'local processes that can be stopped');
    await migrate(stack.databaseUrl);
    prisma = createPrisma(stack.databaseUrl, { poolSize: 4, acquireTimeoutMs: 2_000 });
    fx = fixtures(prisma);
    loc = await fx.location({ webhookSecrets: [{ value: SECRET }] });
    await fx.order(loc.id, { id: 'ord_1', total: 1000 });
    await fx.payment(loc.id, 'ord_1', { paymentIntentId: 'pi_pg', amount: 400 });
    await fx.payment(loc.id, 'ord_1', { paymentIntentId: 'pi_redis', amount: 600 });
    await prisma.$transaction((tx) => ordersRepo(tx).recomputePaid(loc.id, 'ord_1'));
    webhook = await startWebhook({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: stack.databaseUrl,
      REDIS_URL: stack.redisUrl,
      EPOS_RELAY_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      PORT: '0',
      QUEUE_PREFIX: prefix,
      DB_ACQUIRE_TIMEOUT_MS: '2000',
    });
    worker = new DojoEventsWorker({ redisUrl: stack.redisUrl, prefix, concurrency: 2 }, new ApplyDojoEvent(prisma, logger), logger);
    worker.start();
    await worker.waitUntilReady();
    enqueuer = new BullmqEventEnqueuer({ redisUrl: stack.redisUrl, prefix });
    sweeper = new DojoEventsSweeper(new DojoEventsRepository(prisma), enqueuer, logger, { intervalMs: 250, staleAfterMs: 500 });
    sweeper.start();
  });

  after(async () => {
    await sweeper?.stop();
    await worker?.close();
    await enqueuer?.close();
    await webhook?.close();
    await prisma?.$disconnect();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const deliver = (id: string, intent: string, status: string) => {
    const raw = JSON.stringify(eventPayload(loc.dojoAccountId, id, 'payment_intent.status_updated', intent, status, new Date()));
    return fetch(`${webhook.url}/webhooks/dojo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dojo-signature': sign(SECRET, raw) },
      body: raw,
      signal: AbortSignal.timeout(15_000),
    });
  };

  it('answers 5xx while Postgres is down, and the retried event is stored and applied', async () => {
    await stack.postgres!.stop();
    try {
      const res = await deliver('evt_pg', 'pi_pg', 'Refunded');
      assert.equal(res.status, 503, 'Dojo must retry: nothing was stored');
    } finally {
      await stack.postgres!.start();
    }
    // Dojo retries until it gets a 2xx.
    await waitFor(async () => (await deliver('evt_pg', 'pi_pg', 'Refunded')).status === 200, 'a 2xx after Postgres returned', 20_000, 250);
    await waitFor(async () => (await prisma.dojoEvent.findFirst({ where: { eventId: 'evt_pg', state: 'applied' } })) !== null, 'the event applied', 20_000, 100);
    const p = await prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: 'pi_pg' } } });
    assert.equal(p.state, 'Refunded');
    const o = await prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'ord_1' } } });
    assert.equal(o.paidAmount, 600n);
    assert.equal(o.payable, true);
  });

  it('stores the event while Redis is down and applies it after Redis returns', async () => {
    await stack.redis!.stop();
    try {
      const res = await deliver('evt_redis', 'pi_redis', 'Canceled');
      assert.equal(res.status, 200, 'stored durably in Postgres: accepted');
      await sleep(1_500);
      const row = await prisma.dojoEvent.findFirstOrThrow({ where: { eventId: 'evt_redis' } });
      assert.equal(row.state, 'received', 'not applied while Redis is down');
    } finally {
      await stack.redis!.start();
    }
    await waitFor(async () => (await prisma.dojoEvent.findFirst({ where: { eventId: 'evt_redis', state: 'applied' } })) !== null, 'the event applied after Redis returned', 40_000, 200);
    const p = await prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: 'pi_redis' } } });
    assert.equal(p.state, 'Canceled');
    const o = await prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: 'ord_1' } } });
    assert.equal(o.paidAmount, 0n);
    const feed = await prisma.venueFeedEntry.count({ where: { locationId: loc.id, kind: 'event.received' } });
    assert.equal(feed, 2);
  });

  it('keeps an event whose enqueue failed and the sweeper hands it to the workers', async () => {
    const failing = { enqueue: async () => { throw new Error('redis is unreachable'); } };
    const ingest = new IngestDojoEvent(new DojoEventsRepository(prisma), failing, logger);
    await fx.payment(loc.id, 'ord_1', { paymentIntentId: 'pi_sweep', amount: 0 });
    const payload = eventPayload(loc.dojoAccountId, 'evt_sweep', 'payment_intent.status_updated', 'pi_sweep', 'Captured', new Date());
    const { eventRowId, duplicate } = await ingest.execute({ payload, channel: 'socket', locationId: loc.id });
    assert.equal(duplicate, false);
    const stored = await prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } });
    assert.equal(stored.channel, 'socket');
    await waitFor(async () => (await prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state === 'applied', 'the sweeper recovered the event', 20_000, 100);
    const p = await prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: 'pi_sweep' } } });
    assert.equal(p.intentStatus, 'Captured');
  });

  it('answers once the event is stored, without waiting for the queue; the sweeper hands over what the queue never got', async () => {
    let asked = 0;
    const hanging = { enqueue: () => { asked++; return new Promise<void>(() => undefined); } };
    const ingest = new IngestDojoEvent(new DojoEventsRepository(prisma), hanging, logger);
    await fx.payment(loc.id, 'ord_1', { paymentIntentId: 'pi_hang', amount: 0 });
    const payload = eventPayload(loc.dojoAccountId, 'evt_hang', 'payment_intent.status_updated', 'pi_hang', 'Captured', new Date());
    const answered = await Promise.race([ingest.execute({ payload, channel: 'webhook', locationId: loc.id }), sleep(5_000).then(() => 'no answer' as const)]);
    assert.notEqual(answered, 'no answer', 'the ingest waited for an enqueue that never ends');
    const { eventRowId } = answered as { eventRowId: string };
    assert.equal(asked, 1);
    assert.equal((await prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state, 'received', 'stored before the answer');
    await waitFor(async () => (await prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state === 'applied', 'the sweeper recovered the event', 20_000, 100);
  });

  it('re-checks kept events when their payment appears without the hand-over (safety net)', async () => {
    const ingest = new IngestDojoEvent(new DojoEventsRepository(prisma), enqueuer, logger);
    const payload = eventPayload(loc.dojoAccountId, 'evt_net', 'payment_intent.status_updated', 'pi_net', 'Captured', new Date());
    const { eventRowId } = await ingest.execute({ payload, channel: 'webhook', locationId: loc.id });
    await waitFor(async () => (await prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state === 'pending_payment', 'kept', 20_000, 100);
    await fx.payment(loc.id, 'ord_1', { paymentIntentId: 'pi_net', amount: 0 }); // no applyPendingEventsForIntent call
    await waitFor(async () => (await prisma.dojoEvent.findUniqueOrThrow({ where: { id: eventRowId } })).state === 'applied', 'applied by the sweeper', 20_000, 100);
    const p = await prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: 'pi_net' } } });
    assert.equal(p.intentStatus, 'Captured');
  });

  it('refuses a socket event whose accountId is not the location\'s', async () => {
    const ingest = new IngestDojoEvent(new DojoEventsRepository(prisma), enqueuer, logger);
    const payload = eventPayload('acc_someone_else', 'evt_x', 'payment_intent.created', 'pi_x', 'Created', new Date());
    await assert.rejects(ingest.execute({ payload, channel: 'socket', locationId: loc.id }), /does not belong/);
    assert.equal(await prisma.dojoEvent.count({ where: { eventId: 'evt_x' } }), 0);
  });
});
