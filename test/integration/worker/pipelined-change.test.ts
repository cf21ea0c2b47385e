/**
 * A planned change on pg in two round trips (BEGIN + the try of its locks +
 * its first read sent together; its last write sent with COMMIT), on real
 * Postgres through the real RpcDispatcher:
 * - the read sent along with the try is never the one that decides when a
 *   lock was held by another transaction (it saw the data before that
 *   transaction's change): the request waits and reads again;
 * - when the last write fails, the COMMIT sent with it commits nothing: the
 *   request fails with the write's error, nothing of the change is committed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { createLogger } from '@app/common';
import type { JsonRpcResponse } from '@app/contracts';
import { failure, isFailure } from '@app/contracts';
import { paymentIntentLockKey } from '@app/domain/core/rules';
import { ProcessedRequests } from '@app/domain/rpc';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, waitFor } from '@app/testing';
import { GBP, rpcJob } from './fixtures';

describe('worker: a change in two round trips stays exactly-once under contention and failure', () => {
  let db: TestDatabase;
  let dispatcher: RpcDispatcher;
  let loc: string;
  /** Another session, playing a concurrent transaction (a second locker, the events worker, the gateway). */
  let other: Client;

  before(async () => {
    db = await createTestDatabase('pipelined');
    dispatcher = new RpcDispatcher({ prisma: db.prisma, logger: createLogger('t', 'silent'), events: { ingest: async () => ({ eventRowId: '', duplicate: false }) } });
    loc = (await fixtures(db.prisma).location({ name: 'Pipes' })).id;
    other = new Client({ connectionString: db.url });
    await other.connect();
    // Holds a request's own processed_requests insert (a success, in its last write) while advisory lock 4242 is
    // held elsewhere: lets a test put another transaction's insert of the same id (the gateway's error) before it.
    await db.prisma.$executeRawUnsafe(`CREATE FUNCTION test_hold_store() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_hold_store BEFORE INSERT ON processed_requests
      FOR EACH ROW WHEN (NEW.rpc_id LIKE 'hold-%' AND NEW.response->'result' IS NOT NULL) EXECUTE FUNCTION test_hold_store()`);
  });

  after(async () => {
    await other?.end();
    await db?.drop();
  });

  const future = (ms: number) => new Date(Date.now() + ms).toISOString();
  /** Waits until a session of the test database waits for a lock (a row lock, or an advisory one). */
  const someoneWaits = (event: 'tuple' | 'transactionid' | 'advisory') =>
    waitFor(async () => {
      const [row] = await db.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = $1`,
        event,
      );
      return row!.n > 0 || undefined;
    }, `a session waiting for a ${event} lock`);
  const errorText = (res: JsonRpcResponse) => (isFailure(res) ? `${res.error.message} ${res.error.debugMessage}` : '');

  it('two lockers of one order: the read sent with the try of the row lock is discarded, the second sees the first lock', async () => {
    await fixtures(db.prisma).order(loc, { id: 'P-1', total: 2000 });
    // The first locker: holds the order's row lock and writes its lock, not committed yet.
    await other.query('BEGIN');
    await other.query(`SELECT 1 FROM orders WHERE location_id = $1 AND id = 'P-1' FOR UPDATE`, [loc]);
    await other.query(`INSERT INTO order_locks (location_id, order_id, lock_id, expires_at, updated_at) VALUES ($1, 'P-1', 'first', now() + interval '1 minute', now())`, [loc]);
    // The second: its try of the row lock fails, the read sent along sees no lock at all.
    const second = dispatcher.handle(rpcJob(loc, 'CreateOrderLockV1', { orderId: 'P-1', lockId: 'second', expiry: future(60_000) }));
    await someoneWaits('transactionid');
    await other.query('COMMIT');
    const res = await second;
    assert.ok(isFailure(res), `the second locker must be refused, got ${JSON.stringify(res)}`);
    assert.equal(res.error.errorType, 'Conflict', errorText(res));
    assert.match(errorText(res), /first/);
    const locks = await db.prisma.orderLock.findMany({ where: { locationId: loc, orderId: 'P-1' } });
    assert.deepEqual(locks.map((l) => l.lockId), ['first']);
    assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: loc, entityId: 'P-1' } }), 0, 'the refused request wrote nothing');
  });

  it("a payment whose intent's advisory lock was held: the read sent along is discarded, the payment recorded meanwhile is seen", async () => {
    await fixtures(db.prisma).order(loc, { id: 'P-2', total: 2000 });
    // The events worker's side: holds the intent's lock and records the payment (as an online payment would).
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [paymentIntentLockKey(loc, 'pi_p2')]);
    await other.query(
      `INSERT INTO payments (location_id, payment_intent_id, order_id, currency, paid_amount, tips_amount, state, updated_at)
       VALUES ($1, 'pi_p2', 'P-2', 'GBP', 500, 0, 'Recorded', now())`,
      [loc],
    );
    const second = dispatcher.handle(rpcJob(loc, 'RecordOrderPaymentByIdV1', { orderId: 'P-2', paymentIntentId: 'pi_p2', paidAmount: GBP(700) }));
    await someoneWaits('advisory');
    await other.query('COMMIT');
    const res = await second;
    // Read under the lock, the intent is recorded with other amounts: refused as a mismatch, never recorded twice.
    assert.ok(isFailure(res), `a second record of pi_p2 must be refused, got ${JSON.stringify(res)}`);
    assert.match(errorText(res), /pi_p2 is already recorded .* cannot be recorded again/);
    const payments = await db.prisma.payment.findMany({ where: { locationId: loc, paymentIntentId: 'pi_p2' } });
    assert.deepEqual(payments.map((p) => Number(p.paidAmount)), [500]);
  });

  it('the last write fails (the gateway stored its deadline answer first): the COMMIT sent with it commits nothing, the stored answer stands', async () => {
    await fixtures(db.prisma).order(loc, { id: 'P-3', total: 2000 });
    await other.query('SELECT pg_advisory_lock(4242)');
    const job = rpcJob(loc, 'CreateOrderLockV1', { orderId: 'P-3', lockId: 'late', expiry: future(60_000) }, { rpcId: 'hold-1' });
    const pending = dispatcher.handle(job);
    // The request's last write (its lock, feed, POS event and stored response, one statement) waits in the trigger.
    await someoneWaits('advisory');
    const gatewayAnswer = failure(job.rpcId, { code: 500, message: 'deadline: nothing was applied', errorType: 'UnexpectedError', debugMessage: 'test', traceId: job.traceId });
    const claim = await new ProcessedRequests(db.prisma).claimAtDeadline(job, gatewayAnswer);
    assert.equal(claim.claimed, true);
    await other.query('SELECT pg_advisory_unlock(4242)');
    const res = await pending;
    assert.deepEqual(res, claim.response, 'the answer is the stored deadline answer, not the change');
    assert.equal(await db.prisma.orderLock.count({ where: { locationId: loc, orderId: 'P-3' } }), 0, 'the lock was not committed');
    assert.equal(await db.prisma.venueFeedEntry.count({ where: { locationId: loc, entityId: 'P-3' } }), 0);
    assert.equal(await db.prisma.outboxEvent.count({ where: { locationId: loc, entityId: 'P-3' } }), 0);
    const stored = await db.prisma.processedRequest.findMany({ where: { locationId: loc, rpcId: 'hold-1' } });
    assert.equal(stored.length, 1);
    assert.deepEqual(stored[0]!.response, JSON.parse(JSON.stringify(gatewayAnswer)));
    // The pool's connections are fine afterwards: the next change on the order commits.
    const next = await dispatcher.handle(rpcJob(loc, 'CreateOrderLockV1', { orderId: 'P-3', lockId: 'next', expiry: future(60_000) }));
    assert.ok(!isFailure(next), JSON.stringify(next));
    assert.equal(await db.prisma.orderLock.count({ where: { locationId: loc, orderId: 'P-3' } }), 1);
  });
});
