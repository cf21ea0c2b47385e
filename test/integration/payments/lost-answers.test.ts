import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { DojoClient } from '@app/dojo-client';
import { DojoSandbox, TEST_CARDS } from '@app/dojo-sandbox';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import type { PaymentIntentDeps } from '@app/domain/payment-intents';
import { ReconcilePaymentIntents, RefundPaymentIntent, ReversePaymentIntent } from '@app/domain/payment-intents';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import type { LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';

/**
 * A refund or reversal whose answer from Dojo is lost (Dojo did it; the relay saw a 502): the key stays bound to
 * what was asked, and the intent is watched again so the reconciler reads what Dojo did. Through a proxy in front
 * of the sandbox that forwards a call and then answers 502 instead of Dojo's answer.
 */
describe('payment intents: lost answers from Dojo', () => {
  let db: TestDatabase;
  let sim: DojoSandbox;
  let proxy: Server;
  let loc: LocationFixture;
  let deps: PaymentIntentDeps;
  let n = 0;
  /** Answers of calls whose path matches are lost (502 after Dojo did them). */
  let lose: RegExp | null = null;
  const log = createLogger('test', 'silent');

  before(async () => {
    db = await createTestDatabase('lost-answers');
    const fx = fixtures(db.prisma);
    const sh = await fx.softwareHouse();
    loc = await fx.location({ softwareHouseId: sh.id, name: 'Lost Answers' });
    sim = await DojoSandbox.start({ port: 0 });
    sim.addAccount({ apiKey: loc.apiKey, softwareHouseId: sh.dojoSoftwareHouseId, accountId: loc.dojoAccountId });
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        void fetch(`${sim.url}${req.url}`, { method: req.method, headers, body }).then(async (up) => {
          const text = await up.text();
          if (lose?.test(req.url ?? '')) {
            res.writeHead(502).end('lost');
            return;
          }
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' }).end(text);
        });
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as { port: number }).port;
    const creds = { apiKey: loc.apiKey, softwareHouseId: sh.dojoSoftwareHouseId, baseUrl: `http://127.0.0.1:${port}` };
    deps = {
      prisma: db.prisma,
      dojo: new DojoClient({ baseUrl: creds.baseUrl, apiVersion: '2026-02-27', maxAttempts: 2, backoffBaseMs: 10 }),
      credentials: { forLocation: async () => creds },
      checkoutBase: sim.checkoutBase,
      firstCheckAfterMs: 60_000,
      log,
    };
  });

  after(async () => {
    await new Promise<void>((r) => proxy?.close(() => r()));
    await sim?.close().catch(() => undefined);
    await db?.drop();
  });

  /** An order paid by a Captured intent, at the sandbox and in the database, no longer watched by the reconciler. */
  const capturedIntent = async (total: number) => {
    const orderId = `o-${++n}`;
    await fixtures(db.prisma).order(loc.id, { id: orderId, total });
    const pi = sim.paymentIntents.create(loc.dojoAccountId, { amount: { value: total, currencyCode: 'GBP' }, reference: orderId }, undefined);
    sim.paymentIntents.pay(pi.id, TEST_CARDS.success, undefined);
    await db.prisma.paymentIntent.create({
      data: {
        locationId: loc.id, id: randomUUID(), paymentIntentId: pi.id, orderId, idempotencyKey: `create-${n}`, requestHash: 'h', amount: BigInt(total),
        currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status: 'Captured', nextCheckAt: null,
      },
    });
    return pi.id;
  };
  const row = (pi: string) => db.prisma.paymentIntent.findFirstOrThrow({ where: { locationId: loc.id, paymentIntentId: pi } });
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err as Error & { status?: number; code?: string };
    }
    assert.fail('expected a failure');
  };

  it('a reversal whose answer is lost keeps its key and watches the intent, so the reconciler finds it Reversed', async () => {
    const pi = await capturedIntent(1200);
    const reverse = new ReversePaymentIntent(deps);
    lose = /\/reversal$/;
    try {
      const lost = await failure(reverse.execute(loc.id, pi, { idempotencyKey: 'rev-1', reason: 'wrong table' }));
      assert.match(lost.message, /502/);
    } finally {
      lose = null;
    }
    assert.equal(sim.paymentIntents.get(loc.dojoAccountId, pi).status, 'Reversed', 'Dojo reversed it');
    assert.ok((await row(pi)).nextCheckAt, 'the intent is watched again');

    // The same key: not sent again (Dojo takes no key for a reversal), 409 while its outcome is unknown.
    assert.match((await failure(reverse.execute(loc.id, pi, { idempotencyKey: 'rev-1', reason: 'wrong table' }))).message, /answer is not known yet/);
    // Another key: Dojo refuses (already reversed); still watched, and that key is free again.
    await db.prisma.paymentIntent.updateMany({ where: { locationId: loc.id, paymentIntentId: pi }, data: { nextCheckAt: null } });
    assert.match((await failure(reverse.execute(loc.id, pi, { idempotencyKey: 'rev-2', reason: 'wrong table' }))).message, /Dojo refused/);
    assert.ok((await row(pi)).nextCheckAt, 'watched again after a refusal');
    assert.equal(await db.prisma.paymentIntentOperation.count({ where: { locationId: loc.id, idempotencyKey: 'rev-2' } }), 0);

    // The reconciler reads the intent and hands its Reversed status to the events pipeline.
    const ingest = new IngestDojoEvent(new DojoEventsRepository(db.prisma), { enqueue: async () => undefined }, log);
    const reconciler = new ReconcilePaymentIntents(db.prisma, deps.dojo, deps.credentials, ingest, log, { baseMs: 1_000, maxMs: 2_000 });
    await reconciler.runOnce(new Date(Date.now() + 120_000));
    const events = await db.prisma.dojoEvent.findMany({ where: { locationId: loc.id, paymentIntentId: pi, channel: 'reconciler' } });
    assert.deepEqual(events.map((e) => e.eventId), [`reconciler:${pi}:Reversed`]);
  });

  it('a refund whose answer is lost keeps its key bound to its intent and amount; a retry sends it again and records it once', async () => {
    const pi = await capturedIntent(2000);
    const other = await capturedIntent(2000);
    const refund = new RefundPaymentIntent(deps);
    lose = /\/refunds$/;
    try {
      assert.match((await failure(refund.execute(loc.id, pi, { idempotencyKey: 'ref-1', amount: 500n, reason: 'cold' }))).message, /502/);
    } finally {
      lose = null;
    }
    assert.equal(sim.paymentIntents.get(loc.dojoAccountId, pi).refundedAmount, 500, 'Dojo refunded it');
    assert.ok((await row(pi)).nextCheckAt, 'the intent is watched again');

    // The key with another amount, or for another intent: 409, nothing sent to Dojo, nothing recorded.
    assert.match((await failure(refund.execute(loc.id, pi, { idempotencyKey: 'ref-1', amount: 1000n, reason: 'cold' }))).message, /another request/);
    assert.match((await failure(refund.execute(loc.id, other, { idempotencyKey: 'ref-1', amount: 500n, reason: 'cold' }))).message, /another request/);
    assert.equal(sim.paymentIntents.get(loc.dojoAccountId, other).refundedAmount, 0);

    // The same request again: sent under its key (Dojo answers the same refund), recorded once for what was asked.
    const retried = await refund.execute(loc.id, pi, { idempotencyKey: 'ref-1', amount: 500n, reason: 'cold' });
    assert.equal(retried.refundedAmount, 500);
    assert.equal(sim.paymentIntents.get(loc.dojoAccountId, pi).refundedAmount, 500, 'one refund at Dojo');
    const ops = await db.prisma.paymentIntentOperation.findMany({ where: { locationId: loc.id, kind: 'refund' } });
    assert.deepEqual(ops.map((o) => [o.paymentIntentId, o.amount, o.pending]), [[pi, 500n, false]]);
    assert.equal((await row(other)).refundedAmount, 0n);
  });
});
