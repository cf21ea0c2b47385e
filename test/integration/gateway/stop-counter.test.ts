import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createLogger } from '@app/common';
import { gatewayEnv, loadConfig } from '@app/config';
import type { CounterCommandPort, CounterSettleJob, CounterWork } from '@app/contracts';
import { success } from '@app/contracts';
import { SecretBox } from '@app/db';
import { defaultProfiles, GatewayManager, gatewayManagerOptions, LocationSource } from '@app/gateway';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, TEST_ENCRYPTION_KEY, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';

/** How long the worker takes with Connect's terminal notification: the stop waits for it with the PAC socket open. */
const NOTIFICATION_MS = 800;

/**
 * A stopping gateway keeps its PAC sockets open while it waits for the replies in flight (here a terminal
 * notification the worker is storing). The terminal's final answer to a sale that arrives meanwhile is the outcome
 * of a card payment: it must be settled, not dropped for the next owner to recover with `duplicate`.
 */
describe('gateway: a stopping replica settles the PAC outcomes that arrive before its sockets close', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let manager: GatewayManager | undefined;
  const redis: Redis[] = [];
  let token: string;

  before(async () => {
    db = await createTestDatabase('gwstopcounter');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    token = `pac-${randomUUID()}`;
    const sh = await fx.softwareHouse();
    await fx.location({
      softwareHouseId: sh.id,
      apiKey: token,
      protocol: 'connect-pac',
      wsUrl: fake.url,
      protocolSettings: { hostAddress: 'counterhost', environment: 'test', installerId: 'INST-1', signatureDefault: 'decline', signatureWaitMs: 1000 },
    });
  });

  after(async () => {
    await manager?.stop().catch(() => undefined); // best effort (teardown)
    for (const r of redis) r.disconnect();
    await fake.close();
    await db?.drop();
  });

  it("settles a sale's reply that arrives while the stop waits for a reply in flight", async () => {
    const txId = randomUUID();
    let handedOut = false;
    const port: CounterCommandPort = {
      takeWork: async (): Promise<CounterWork[]> => {
        if (handedOut) return [];
        handedOut = true;
        return [{ op: 'send', transactionId: txId, kind: 'sale', tid: 'VT-1', amount: 1250, currency: 'GBP' }];
      },
    };
    const settled: CounterSettleJob[] = [];
    let notifications = 0;
    redis.push(new Redis(testRedisUrl()), new Redis(testRedisUrl()));
    const env = { QUEUE_PREFIX: uniquePrefix('gwstopctr'), DOJO_WS_URL: fake.url, GATEWAY_LEASE_TTL_MS: '3000', GATEWAY_PING_INTERVAL_MS: '30000', COUNTER_POLL_MS: '50' };
    manager = new GatewayManager(gatewayManagerOptions(loadConfig(gatewayEnv, appEnv(db, env)), 'gw-ctr'), {
      redis: redis[0]!,
      subscriber: redis[1]!,
      rpc: {
        start: async () => undefined,
        close: async () => undefined,
        call: async (job) => {
          notifications++;
          await new Promise((r) => setTimeout(r, NOTIFICATION_MS));
          return success(job.rpcId, {});
        },
      },
      locations: new LocationSource(db.prisma, new SecretBox(TEST_ENCRYPTION_KEY)),
      profiles: defaultProfiles(),
      logger: createLogger('gw-ctr', 'silent'),
      counter: { port, settler: { settle: async (job) => void settled.push(job) }, terminals: { write: async () => undefined } },
    });
    await manager.start();
    const conn: FakeConnection = await waitFor(() => fake.connections.find((c) => c.path.includes(token) && !c.closedAt), 'the PAC link', 10_000);
    await waitFor(() => conn.received.some((m) => (m as { id?: unknown }).id === txId), 'the sale written to Connect', 10_000);

    // The terminal's progress (a notification the worker stores), then the stop while it is in flight.
    conn.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'terminalNotification', params: { tid: 'VT-1', notificationValue: 'TRANSACTION_STARTED' } }));
    await waitFor(() => notifications > 0 || undefined, 'the notification at the worker', 5_000, 5);
    const stopped = manager.stop();
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(!conn.closedAt, 'the PAC socket is still open');
    const sale = { tid: 'VT-1', transactionType: 'SALE', transactionResult: 'SUCCESSFUL', currency: 'GBP', amountBase: 1250, amountTotal: 1250, transactionTime: new Date().toISOString() };
    conn.ws.send(JSON.stringify({ jsonrpc: '2.0', id: txId, result: sale }));
    await stopped;
    manager = undefined;
    assert.deepEqual(
      settled.map((j) => [j.transactionId, j.outcome.kind]),
      [[txId, 'transaction']],
      'the outcome went to the settle queue',
    );
  });
});
