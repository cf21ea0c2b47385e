import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { createLogger } from '@app/common';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { WaitTimedOut } from '@app/domain/repositories/constraint-violation';
import { DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';
import { eventPayload } from './fixtures';

const WAIT_BOUND_MS = 300;

/**
 * An event's transaction waits for what another transaction holds (here an operator's open psql transaction on the
 * event's row) only up to its bound: it gives its place back and is tried again later, without counting towards a
 * dead letter, and applies once the holder lets go. Real Postgres, the holder on a connection of its own.
 */
describe('events: a lock held past the wait bound', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let loc: LocationFixture;
  let holder: Client;

  before(async () => {
    db = await createTestDatabase('eventsheldlock');
    fx = fixtures(db.prisma);
    loc = await fx.location();
    holder = new Client({ connectionString: db.url });
    await holder.connect();
  });
  after(async () => {
    await holder?.end();
    await db?.drop();
  });

  const apply = () => new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { maxAttempts: 2, waitBoundMs: WAIT_BOUND_MS });

  const setUp = async (pi: string) => {
    const o = await fx.order(loc.id, { total: 1000 });
    await fx.payment(loc.id, o.id, { paymentIntentId: pi, amount: 1000 });
    const at = new Date();
    const row = await new DojoEventsRepository(db.prisma).store(loc.id, eventPayload(loc.dojoAccountId, `evt-${pi}`, 'payment_intent.status_updated', pi, 'Reversed', at), 'webhook', at);
    return { orderId: o.id, rowId: row!.id };
  };
  const giveUps = async (rowId: string) => {
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      await assert.rejects(apply().execute({ eventRowId: rowId }), WaitTimedOut);
      const took = Date.now() - t0;
      assert.ok(took >= WAIT_BOUND_MS - 20 && took < WAIT_BOUND_MS + 2_000, `gave up after about the bound (${took} ms)`);
    }
  };
  const appliesOnceFree = async (rowId: string, orderId: string) => {
    assert.equal((await apply().execute({ eventRowId: rowId })).outcome, 'applied');
    assert.equal((await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: rowId } })).state, 'applied');
    assert.equal((await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: orderId } } })).paidAmount, 0n, 'the reversal took effect');
  };

  it("the order held: gives up after the bound, counts up to one short of a dead letter, applies once it is free", async () => {
    const { orderId, rowId } = await setUp('pi-order-held');
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM orders WHERE location_id = $1 AND id = $2 FOR UPDATE', [loc.id, orderId]);
    try {
      await giveUps(rowId);
      const waiting = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: rowId } });
      assert.deepEqual([waiting.state, waiting.attempts], ['received', 1], 'counted up to one short of EVENTS_MAX_ATTEMPTS: backs off, never dead');
      assert.match(waiting.lastError ?? '', /ran past its bound/);
    } finally {
      await holder.query('ROLLBACK');
    }
    await appliesOnceFree(rowId, orderId);
  });

  it("the event's own row held: gives up after the bound without waiting to record the attempt, applies once it is free", async () => {
    const { orderId, rowId } = await setUp('pi-row-held');
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM dojo_events WHERE location_id = $1 AND id = $2 FOR UPDATE', [loc.id, rowId]);
    try {
      await giveUps(rowId);
    } finally {
      await holder.query('ROLLBACK');
    }
    const waiting = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: rowId } });
    assert.deepEqual([waiting.state, waiting.attempts], ['received', 0], 'nothing recorded on a row another transaction held');
    await appliesOnceFree(rowId, orderId);
  });
});
