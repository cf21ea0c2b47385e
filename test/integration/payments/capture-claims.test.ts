import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DOJO_CALL_STALE_MS, paymentIntentsRepo } from '@app/domain/repositories/payment-intents.repository';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';

/**
 * What the venue API's captures of an intent took (PaymentIntentsRepository.sumCaptureOperations): completed
 * captures, and a claim still at Dojo (its Captured event may come before its answer is written); never a claim
 * whose answer never came (older than a call to Dojo can last), which would count twice a capture sent again
 * under another key.
 */
describe('capture claims: what counts as captured', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('capture-claims');
  });
  after(async () => {
    await db?.drop();
  });

  it('completed captures and claims in flight count; a claim whose answer never came does not', async () => {
    const fx = fixtures(db.prisma);
    const loc = (await fx.location({ name: 'Claims' })).id;
    await fx.order(loc, { id: 'o-1', total: 2000 });
    const pi = 'pi_claims';
    await db.prisma.paymentIntent.create({
      data: { locationId: loc, id: randomUUID(), paymentIntentId: pi, orderId: 'o-1', idempotencyKey: 'k-create', requestHash: 'h', amount: 2000n, currency: 'GBP', captureMode: 'Manual', tipsAllowed: false, status: 'Captured' },
    });
    const op = (key: string, amount: bigint, pending: boolean, ageMs: number) =>
      db.prisma.paymentIntentOperation.create({
        data: { locationId: loc, idempotencyKey: key, paymentIntentId: pi, kind: 'capture', requestHash: key, amount, pending, createdAt: new Date(Date.now() - ageMs) },
      });
    await op('done', 500n, false, DOJO_CALL_STALE_MS * 2);
    await op('in-flight', 300n, true, 1_000);
    await op('lost', 200n, true, DOJO_CALL_STALE_MS + 60_000);
    assert.equal(await paymentIntentsRepo(db.prisma).sumCaptureOperations(loc, pi), 800n);
  });
});
