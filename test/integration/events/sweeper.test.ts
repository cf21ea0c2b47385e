import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { DojoEventsSweeper } from '@app/domain/events/dojo-events-sweeper';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { dojoEventFactsOf, DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { rawOnPg } from '@app/domain/repositories/unit-of-work';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';
import { eventPayload } from './fixtures';

/**
 * The sweeper's safety net for 'pending_payment' rows (a payment that appeared without the hand-over) looks at a
 * slice of them per sweep, oldest first, going round: a sweep costs the same however many rows wait.
 */
describe('Dojo events sweeper: waiting rows a slice at a time', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let loc: LocationFixture;
  const logger = createLogger('sweeper-test', process.env.TEST_LOG_LEVEL ?? 'silent');

  before(async () => {
    db = await createTestDatabase('sweeper');
    fx = fixtures(db.prisma);
    loc = await fx.location();
    await fx.order(loc.id, { id: 'ord_sw', total: 10_000 });
  });
  after(async () => {
    await db?.drop();
  });

  /** Stores and applies an event whose payment is not recorded, so its row waits ('pending_payment'); its row id. */
  const waitingRow = async (repo: DojoEventsRepository, apply: ApplyDojoEvent, name: string, at: Date): Promise<string> => {
    const payload = eventPayload(loc.dojoAccountId, `evt_${name}`, 'payment_intent.status_updated', `pi_${name}`, 'Captured', at);
    const row = await repo.store(loc.id, payload, 'webhook', at);
    assert.equal((await apply.execute({ eventRowId: row!.id, facts: dojoEventFactsOf(loc.id, payload) })).outcome, 'pending_payment');
    return row!.id;
  };

  it('finds a waiting row whose payment appeared, wherever it is in the queue of waiting rows, within one round of slices', async () => {
    const apply = new ApplyDojoEvent(db.prisma, logger);
    const repo = new DojoEventsRepository(rawOnPg(db.prisma));
    const at = new Date(Date.now() - 60_000);
    const rows: string[] = [];
    for (let i = 0; i < 7; i++) rows.push(await waitingRow(repo, apply, `sw_${i}`, at));
    // The payment of the sixth waiting row appears without the hand-over (as a payment written by other means would).
    await fx.payment(loc.id, 'ord_sw', { paymentIntentId: 'pi_sw_5', amount: 0 });
    const enqueued: string[] = [];
    const sweeper = new DojoEventsSweeper(repo, { enqueue: async (id) => void enqueued.push(id) }, logger, { intervalMs: 60_000, staleAfterMs: 0, pendingSlice: 2 });
    const found: number[] = [];
    for (let sweep = 1; sweep <= 4 && enqueued.length === 0; sweep++) {
      await sweeper.sweepOnce();
      found.push(enqueued.length);
    }
    assert.deepEqual(found, [0, 0, 1], 'slices of two: rows 1-2, 3-4, then 5-6 holds it');
    assert.deepEqual(enqueued, [rows[5]]);
    // A round ends with a short slice (row 7 alone), and the next sweep starts again from the oldest.
    await sweeper.sweepOnce();
    assert.deepEqual(enqueued, [rows[5]], 'row 7 is not found (no payment)');
    await sweeper.sweepOnce();
    await sweeper.sweepOnce();
    await sweeper.sweepOnce();
    assert.deepEqual(enqueued, [rows[5], rows[5]], 'the next round found it again (until the worker applies it)');
  });

  it('ends a round and comes back to the oldest even while new waiting rows arrive as fast as the slices go', async () => {
    const apply = new ApplyDojoEvent(db.prisma, logger);
    const repo = new DojoEventsRepository(rawOnPg(db.prisma));
    await db.prisma.$executeRaw`UPDATE dojo_events SET state = 'applied' WHERE state = 'pending_payment'`;
    const wait = (name: string, at: Date) => waitingRow(repo, apply, `rd_${name}`, at);
    const old = new Date(Date.now() - 60_000);
    const oldest = await wait('old_0', old);
    await wait('old_1', old);
    await wait('old_2', old);
    const enqueued: string[] = [];
    const sweeper = new DojoEventsSweeper(repo, { enqueue: async (id) => void enqueued.push(id) }, logger, { intervalMs: 60_000, staleAfterMs: 0, pendingSlice: 2 });
    await sweeper.sweepOnce(); // the round's first slice: old_0 and old_1
    // The oldest row's payment appears once the round has passed it; then every sweep brings a slice's worth of new rows.
    await fx.payment(loc.id, 'ord_sw', { paymentIntentId: 'pi_rd_old_0', amount: 0 });
    let sweeps = 1;
    for (let i = 0; i < 5 && enqueued.length === 0; i++) {
      await wait(`new_${i}_a`, new Date());
      await wait(`new_${i}_b`, new Date());
      await sweeper.sweepOnce();
      sweeps++;
    }
    assert.deepEqual(enqueued, [oldest], 'the oldest row is looked at again');
    assert.equal(sweeps, 3, 'the first round (old_2 alone after old_0-1) ended at sweep 2; the next began with the oldest');
  });
});
