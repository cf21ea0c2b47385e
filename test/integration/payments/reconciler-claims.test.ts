import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import type { DojoClient, DojoPaymentIntent } from '@app/dojo-client';
import type { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { ReconcilePaymentIntents } from '@app/domain/payment-intents';
import { paymentIntentsRepo } from '@app/domain/repositories/payment-intents.repository';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, sleep } from '@app/testing';

/**
 * The reconciler as every worker replica runs it, on real Postgres: runs at once claim different intents, and a
 * watch the venue API sets while the reconciler reads Dojo outlives the reconciler's own reschedule. Dojo is a stub
 * answering each read slowly.
 */
describe('payment intent reconciler: claims', () => {
  let db: TestDatabase;
  let loc = '';
  let n = 0;
  const log = createLogger('test', 'silent');
  const ingest = { execute: async () => undefined } as unknown as IngestDojoEvent;
  const credentials = { forLocation: async () => ({ apiKey: 'k' }) };

  before(async () => {
    db = await createTestDatabase('reconciler-claims');
    loc = (await fixtures(db.prisma).location({ name: 'Reconciled' })).id;
  });
  after(async () => {
    await db?.drop();
  });

  /** A Captured intent due for a check since a second ago. */
  const dueIntent = async () => {
    const orderId = `o-${++n}`;
    await fixtures(db.prisma).order(loc, { id: orderId, total: 1000 });
    const pi = `pi_claims_${n}`;
    await db.prisma.paymentIntent.create({
      data: {
        locationId: loc, id: randomUUID(), paymentIntentId: pi, orderId, idempotencyKey: `k-${n}`, requestHash: 'h', amount: 1000n, currency: 'GBP',
        captureMode: 'Auto', tipsAllowed: false, status: 'Captured', nextCheckAt: new Date(Date.now() - 1_000),
      },
    });
    return pi;
  };
  const dojo = (onRead: (id: string) => Promise<void>) =>
    ({
      getPaymentIntent: async (_c: unknown, id: string): Promise<DojoPaymentIntent> => {
        await onRead(id);
        return { id, status: 'Captured' } as DojoPaymentIntent;
      },
    }) as unknown as DojoClient;
  const reconciler = (d: DojoClient, leaseMs?: number) =>
    new ReconcilePaymentIntents(db.prisma, d, credentials, ingest, log, { baseMs: 1_000, maxMs: 2_000, ...(leaseMs ? { leaseMs } : {}) });

  it('two runs at once read each due intent once', async () => {
    const ids = [await dueIntent(), await dueIntent(), await dueIntent()];
    const reads: string[] = [];
    const slow = dojo(async (id) => {
      reads.push(id);
      await sleep(100);
    });
    const runs = await Promise.all([reconciler(slow).runOnce(), reconciler(slow).runOnce()]);
    assert.deepEqual([...reads].sort(), [...ids].sort(), 'each intent read once');
    assert.equal(runs[0].checked + runs[1].checked, 3);
    const rows = await db.prisma.paymentIntent.findMany({ where: { locationId: loc, paymentIntentId: { in: ids } } });
    assert.deepEqual(rows.map((r) => r.nextCheckAt), [null, null, null], 'Captured: no longer watched');
  });

  it('keeps a watch the venue API set while the reconciler read Dojo', async () => {
    const pi = await dueIntent();
    const watchedUntil = new Date(Date.now() + 60_000);
    // While Dojo is read, a capture/refund/reversal through the venue API watches the intent (PaymentIntentDeps watch).
    const d = dojo(async (id) => {
      await paymentIntentsRepo(db.prisma).scheduleCheck(loc, id, watchedUntil, 0);
    });
    const run = await reconciler(d).runOnce();
    assert.equal(run.checked, 1);
    const row = await db.prisma.paymentIntent.findFirstOrThrow({ where: { locationId: loc, paymentIntentId: pi } });
    assert.equal(row.nextCheckAt?.getTime(), watchedUntil.getTime(), "the venue API's watch stands");
  });

  it('a run slowed down by Dojo stops before its lease ends; what it did not read is due when the lease ends', async () => {
    const ids = [await dueIntent(), await dueIntent(), await dueIntent()];
    const reads: string[] = [];
    // A 500 ms lease, stopping 100 ms before its end; each read takes 250 ms: two reads, then the run stops.
    const run = await reconciler(dojo(async (id) => {
      reads.push(id);
      await sleep(250);
    }), 500).runOnce();
    assert.deepEqual([run.checked, reads.length], [2, 2]);
    const left = await db.prisma.paymentIntent.findMany({ where: { locationId: loc, paymentIntentId: { in: ids }, nextCheckAt: { not: null } } });
    assert.equal(left.length, 1, 'one intent not read');
    assert.ok(left[0]!.nextCheckAt!.getTime() <= Date.now() + 500, 'due again when the lease ends');
    await sleep(Math.max(0, left[0]!.nextCheckAt!.getTime() - Date.now()) + 10);
    assert.equal((await reconciler(dojo(async () => undefined)).runOnce()).checked, 1, 'the next run reads it');
  });

  it("an operation Dojo accepted is recorded even when another request's refusal freed its claim meanwhile", async () => {
    const intents = paymentIntentsRepo(db.prisma);
    const row = { locationId: loc, idempotencyKey: `op-${++n}`, paymentIntentId: 'pi_op', kind: 'refund', requestHash: 'h1', amount: 500n, reason: 'r' };
    await intents.claimOperation(row);
    await intents.dropOperationClaim(loc, row.idempotencyKey);
    await intents.completeOperation(row, 'rf_1');
    const op = await intents.findOperation(loc, row.idempotencyKey);
    assert.deepEqual([op?.pending, op?.dojoRef, op?.amount, op?.paymentIntentId], [false, 'rf_1', 500n, 'pi_op']);
    // The key claimed by another request (another body) meanwhile: its claim is left as it is.
    const other = { ...row, idempotencyKey: `op-${++n}` };
    await intents.claimOperation({ ...other, requestHash: 'h2', amount: 700n });
    await intents.completeOperation(other, 'rf_2');
    const kept = await intents.findOperation(loc, other.idempotencyKey);
    assert.deepEqual([kept?.pending, kept?.dojoRef, kept?.amount], [true, null, 700n]);
  });
});
