import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Queue } from 'bullmq';
import { startWebhook } from '../../../apps/webhook/src/main';
import type { RunningApp } from '@app/common';
import type { LocationChangedMessage } from '@app/contracts';
import { Channels } from '@app/contracts';
import { QueueName, queuePrefix } from '@app/queue';
import { sign } from '@app/domain/events/webhook-signature';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';

describe('webhook ingest: cached account lookups', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let app: RunningApp;
  let queue: Queue;
  let redis: Redis;
  const prefix = uniquePrefix('evwc');
  let n = 0;

  before(async () => {
    db = await createTestDatabase('events-webhook-cache');
    fx = fixtures(db.prisma);
    app = await startWebhook(appEnv(db, { QUEUE_PREFIX: prefix }));
    queue = new Queue(QueueName.DojoEvents, { connection: { url: testRedisUrl() }, prefix: queuePrefix(prefix, QueueName.DojoEvents) });
    redis = new Redis(testRedisUrl());
  });

  after(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined); // best effort (teardown)
    await queue?.close();
    redis?.disconnect();
    await app?.close();
    await db?.drop();
  });

  const body = (accountId: string) =>
    JSON.stringify({
      id: `evt_${++n}`,
      event: 'payment_intent.status_updated',
      accountId,
      createdAt: '2026-11-21T10:00:00.123Z',
      data: { paymentIntentId: 'pi_1', paymentStatus: 'Captured', captureMode: 'Auto' },
    });

  /** How many deliveries this app refused for an unknown account (its metric: the answer itself is a plain 401). */
  const unknownAccounts = async (): Promise<number> => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('epos_relay_webhook_rejected_total{') && l.includes('reason="unknown_account"'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  const deliver = async (accountId: string, secret: string): Promise<number> => {
    const raw = body(accountId);
    const res = await fetch(`${app.url}/webhooks/dojo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dojo-signature': sign(secret, raw) },
      body: raw,
      signal: AbortSignal.timeout(5_000),
    });
    await res.arrayBuffer();
    return res.status;
  };

  const addSecret = async (locationId: string, value: string, state: 'active' | 'retired' = 'active') => (await fx.webhookSecret(locationId, value, state)).id;

  const publishChanged = (locationId: string) => redis.publish(Channels.locationChanged(prefix), JSON.stringify({ locationId, configVersion: 2 } satisfies LocationChangedMessage));

  it('a secret added after the account was cached verifies at once', async () => {
    const loc = await fx.location({ webhookSecrets: [{ value: 'first-secret' }] });
    assert.equal(await deliver(loc.dojoAccountId, 'first-secret'), 200); // the account is now cached
    await addSecret(loc.id, 'added-later');
    assert.equal(await deliver(loc.dojoAccountId, 'added-later'), 200);
    assert.equal(await deliver(loc.dojoAccountId, 'never-added'), 401);
  });

  it('serves repeat deliveries from the cache, and a location change drops the entry at once', async () => {
    const loc = await fx.location();
    const secretId = await addSecret(loc.id, 'rotating');
    assert.equal(await deliver(loc.dojoAccountId, 'rotating'), 200);
    // Retired directly in the database, with no change published: the cached secret still verifies (for at most a few seconds).
    await db.prisma.webhookSecret.update({ where: { id: secretId }, data: { state: 'retired' } });
    assert.equal(await deliver(loc.dojoAccountId, 'rotating'), 200, 'the second delivery came from the cache');
    // Published as a location change: the entry is dropped well before it would expire (5 s).
    const t0 = Date.now();
    await publishChanged(loc.id);
    await waitFor(async () => (await deliver(loc.dojoAccountId, 'rotating')) === 401, 'the retired secret refused', 2_000, 50);
    assert.ok(Date.now() - t0 < 2_000);
  });

  it('does not cache unknown accounts, and forgets a deleted location when its change is published', async () => {
    const accountId = `acc_${randomUUID().slice(0, 8)}`;
    const unknownBefore = await unknownAccounts();
    assert.equal(await deliver(accountId, 's'), 401);
    assert.equal(await unknownAccounts(), unknownBefore + 1, 'refused as an unknown account');
    const loc = await fx.location({ webhookSecrets: [{ value: 'fresh' }] });
    assert.equal(await deliver(loc.dojoAccountId, 'fresh'), 200);
    await db.prisma.webhookSecret.deleteMany({ where: { locationId: loc.id } });
    await db.prisma.dojoEvent.deleteMany({ where: { locationId: loc.id } });
    await db.prisma.location.delete({ where: { id: loc.id } });
    await publishChanged(loc.id);
    await waitFor(async () => {
      const before = await unknownAccounts();
      return (await deliver(loc.dojoAccountId, 'fresh')) === 401 && (await unknownAccounts()) === before + 1 ? true : undefined;
    }, 'the deleted location is unknown', 2_000, 50);
    // A new location with an account never seen before is found on its first delivery.
    const next = await fx.location({ webhookSecrets: [{ value: 'newcomer' }] });
    assert.equal(await deliver(next.dojoAccountId, 'newcomer'), 200);
  });
});
