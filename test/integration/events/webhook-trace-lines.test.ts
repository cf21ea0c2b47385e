import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { SecretBox } from '@app/db';
import { AcceptDojoWebhook, DojoEventsRepository, IngestDojoEvent, WebhookAccountsRepository } from '@app/domain/events';
import { sign } from '@app/domain/events/webhook-signature';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, parseStrictJson, TEST_ENCRYPTION_KEY } from '@app/testing';

const SECRET = 'trace-lines-secret';

/** The webhook's lines after a delivery verified: each carries the traceId the delivery was answered with. */
describe('webhook log lines carry the traceId Dojo is answered with', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let loc: LocationFixture;
  const lines: Record<string, unknown>[] = [];
  let enqueueFails = false;
  let accept: AcceptDojoWebhook;

  before(async () => {
    db = await createTestDatabase('webhook-trace-lines');
    fx = fixtures(db.prisma);
    loc = await fx.location({ webhookSecrets: [SECRET] });
    const logger = createLogger('test', 'info', { write: (s: string) => void lines.push(...s.split('\n').filter(Boolean).map((l) => parseStrictJson(l) as Record<string, unknown>)) });
    const enqueuer = { enqueue: async () => (enqueueFails ? Promise.reject(new Error('redis is down')) : undefined) };
    const ingest = new IngestDojoEvent(new DojoEventsRepository(db.prisma), enqueuer, logger);
    accept = new AcceptDojoWebhook(new WebhookAccountsRepository(db.prisma), new SecretBox(TEST_ENCRYPTION_KEY), ingest, logger);
  });

  after(async () => {
    await db?.drop();
  });

  const deliver = (accountId: string, eventId: string, traceId: string) => {
    const raw = JSON.stringify({
      id: eventId,
      event: 'payment_intent.status_updated',
      accountId,
      createdAt: '2026-11-21T10:00:00.123Z',
      data: { paymentIntentId: 'pi_1', paymentStatus: 'Captured', captureMode: 'Auto' },
    });
    return accept.execute({ rawBody: Buffer.from(raw), signature: sign(SECRET, raw), traceId });
  };
  const linesOf = (msg: string) => lines.filter((l) => l.msg === msg);

  it('stored, delivered again, and not enqueued: each line names the trace', async () => {
    assert.equal((await deliver(loc.dojoAccountId, 'evt_t1', 'trace-stored')).outcome, 'stored');
    assert.equal((await deliver(loc.dojoAccountId, 'evt_t1', 'trace-again')).outcome, 'stored');
    enqueueFails = true;
    assert.equal((await deliver(loc.dojoAccountId, 'evt_t2', 'trace-unqueued')).outcome, 'stored');
    await new Promise((r) => setImmediate(r));
    enqueueFails = false;
    assert.deepEqual(linesOf('dojo event stored').map((l) => [l.traceId, l.eventId, l.locationId]), [
      ['trace-stored', 'evt_t1', loc.id],
      ['trace-unqueued', 'evt_t2', loc.id],
    ]);
    assert.deepEqual(linesOf('dojo event delivered again').map((l) => l.traceId), ['trace-again']);
    assert.deepEqual(linesOf('could not enqueue the dojo event; the sweeper will pick it up').map((l) => l.traceId), ['trace-unqueued']);
  });

  it('a secret that does not decrypt is logged with the delivery’s trace and account', async () => {
    const other = await fx.location({ webhookSecrets: [SECRET] });
    const broken = await fx.webhookSecret(other.id, 'cannot-be-read');
    // Ciphertext bound to another row: it does not decrypt for this one.
    const foreign = await db.prisma.webhookSecret.findFirstOrThrow({ where: { locationId: other.id, id: { not: broken.id } } });
    await db.prisma.webhookSecret.update({ where: { id: broken.id }, data: { secretCiphertext: foreign.secretCiphertext } });
    assert.equal((await deliver(other.dojoAccountId, 'evt_t3', 'trace-broken-secret')).outcome, 'stored', 'the other secret still verifies');
    const [line] = linesOf('a webhook secret does not decrypt; it is skipped');
    assert.ok(line, 'the undecryptable secret is logged');
    assert.deepEqual([line.traceId, line.accountId, line.locationId, line.secretId], ['trace-broken-secret', other.dojoAccountId, other.id, broken.id]);
  });
});
