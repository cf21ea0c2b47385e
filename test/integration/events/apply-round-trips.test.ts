import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { ApplyDojoEvent } from '@app/domain/events/usecases/apply-dojo-event.usecase';
import { dojoEventFactsOf, DojoEventsRepository } from '@app/domain/repositories/dojo-events.repository';
import { IngestDojoEvent } from '@app/domain/events/ingest-dojo-event.usecase';
import { rawOnPg } from '@app/domain/repositories/unit-of-work';
import { OrdersRepository } from '@app/domain/repositories/orders.repository';
import type { LocationFixture, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, pgRoundTripsOf } from '@app/testing';
import { eventPayload } from './fixtures';

/**
 * The events worker's apply talks to Postgres in as few round trips as its
 * locks allow: the unlocked head read (not needed when the job carries the
 * row's facts); BEGIN with the intent lock, the row lock and the reads they
 * guard; the last write with COMMIT.
 */
describe('Dojo event apply: SQL round trips', () => {
  let db: TestDatabase;
  let loc: LocationFixture;
  const at = new Date('2026-11-30T12:00:00.000Z');

  before(async () => {
    db = await createTestDatabase();
    loc = await fixtures(db.prisma).location();
  });
  after(async () => {
    await db.drop();
  });

  const store = async (id: string, paymentIntentId: string | undefined) => {
    const stored = await new DojoEventsRepository(rawOnPg(db.prisma)).store(loc.id, eventPayload(loc.dojoAccountId, id, 'payment_intent.status_updated', paymentIntentId, 'Authorized', at), 'webhook', at);
    return stored!.id;
  };
  const state = async (id: string) =>
    (await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id }, select: { state: true } })).state as string;
  const factsOf = (id: string, paymentIntentId: string | undefined, status = 'Authorized') =>
    dojoEventFactsOf(loc.id, eventPayload(loc.dojoAccountId, id, 'payment_intent.status_updated', paymentIntentId, status, at));

  it('an event whose intent has no payment yet: 3 round trips (head; BEGIN + locks + reads; pending mark + COMMIT)', async () => {
    const rowId = await store('rt-pending', 'pi_rt_pending');
    const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'));
    const { out, trips, statements } = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(out.outcome, 'pending_payment');
    assert.equal(await state(rowId), 'pending_payment');
    assert.equal(trips, 3);
    assert.equal(statements, 9, 'head; BEGIN, the wait bound, intent lock, row lock+read, payment, intent; the mark, COMMIT');
    // Again: nothing left to do, one unlocked read.
    const again = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(again.out.outcome, 'pending_payment');
  });

  it('with the row\'s facts from its job: no head read, 2 round trips, the same effects; applied, dead and missing rows left alone', async () => {
    const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'));
    const pending = await store('rt-facts-pending', 'pi_rt_facts');
    const p = await pgRoundTripsOf(() => apply.execute({ eventRowId: pending, facts: factsOf('rt-facts-pending', 'pi_rt_facts') }));
    assert.equal(p.out.outcome, 'pending_payment');
    assert.equal(await state(pending), 'pending_payment');
    assert.equal(p.trips, 2, 'BEGIN + locks + reads; the mark + COMMIT');

    const noIntent = await store('rt-facts-noint', undefined);
    const a = await pgRoundTripsOf(() => apply.execute({ eventRowId: noIntent, facts: factsOf('rt-facts-noint', undefined) }));
    assert.equal(a.out.outcome, 'applied');
    assert.equal(a.trips, 2);
    const again = await apply.execute({ eventRowId: noIntent, facts: factsOf('rt-facts-noint', undefined) });
    assert.equal(again.outcome, 'already_applied', 'checked under the row lock');
    assert.equal((await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id, kind: 'event.received', entityId: 'rt-facts-noint' } })).length, 1, 'took effect once');

    const dead = await store('rt-facts-dead', undefined);
    await db.prisma.dojoEvent.update({ where: { id: dead }, data: { state: 'dead', deadAt: new Date() } });
    assert.equal((await apply.execute({ eventRowId: dead, facts: factsOf('rt-facts-dead', undefined) })).outcome, 'dead');
    assert.equal(await state(dead), 'dead', 'a dead letter waits for an operator');

    const missing = '00000000-0000-4000-8000-000000000001';
    assert.equal((await apply.execute({ eventRowId: missing, facts: factsOf('rt-facts-missing', 'pi_rt_missing') })).outcome, 'missing');
  });

  it('facts of a status that may need Dojo first: the row is read before, so an applied event never costs a call to Dojo', async () => {
    let calls = 0;
    const reader = {
      read: async () => {
        calls++;
        return { tipsAmount: 0n, refundedAmount: 0n };
      },
    };
    const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { dojoIntents: reader });
    const rowId = (await new DojoEventsRepository(rawOnPg(db.prisma)).store(loc.id, eventPayload(loc.dojoAccountId, 'rt-facts-refund', 'payment_intent.status_updated', 'pi_rt_refund', 'Refunded', at), 'webhook', at))!.id;
    await db.prisma.dojoEvent.update({ where: { id: rowId }, data: { state: 'applied', appliedAt: new Date() } });
    const { out, trips } = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId, facts: factsOf('rt-facts-refund', 'pi_rt_refund', 'Refunded') }));
    assert.equal(out.outcome, 'already_applied');
    assert.equal(trips, 1, 'the head read alone');
    assert.equal(calls, 0);
  });

  it('ingest hands the pipeline the facts of a row it inserted, and none for a repeat (the row holds its first delivery\'s)', async () => {
    const enqueued: { id: string; facts: unknown }[] = [];
    const ingest = new IngestDojoEvent(new DojoEventsRepository(rawOnPg(db.prisma)), { enqueue: async (id, facts) => void enqueued.push({ id, facts }) }, createLogger('test', 'silent'));
    const payload = eventPayload(loc.dojoAccountId, 'rt-ingest', 'payment_intent.status_updated', 'pi_rt_ingest', 'Authorized', at);
    const first = await ingest.execute({ payload, channel: 'webhook', locationId: loc.id });
    await ingest.execute({ payload, channel: 'webhook', locationId: loc.id });
    assert.equal(enqueued.length, 2, 'a repeat of a row still waiting is enqueued again');
    assert.deepEqual(enqueued[0], { id: first.eventRowId, facts: { locationId: loc.id, paymentIntentId: 'pi_rt_ingest', paymentStatus: 'Authorized' } });
    assert.deepEqual(enqueued[1], { id: first.eventRowId, facts: undefined });
    const row = await db.prisma.dojoEvent.findUniqueOrThrow({ where: { id: first.eventRowId } });
    assert.deepEqual({ locationId: row.locationId, paymentIntentId: row.paymentIntentId, paymentStatus: row.paymentStatus }, enqueued[0].facts, 'the facts are the row\'s');
  });

  it('an event with no intent: 3 round trips, its move to applied and its feed entry one statement sent with COMMIT', async () => {
    const rowId = await store('rt-noint', undefined);
    const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'));
    const { out, trips, statements } = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(out.outcome, 'applied');
    assert.equal(await state(rowId), 'applied');
    const feed = await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id, kind: 'event.received', entityId: 'rt-noint' } });
    assert.equal(feed.length, 1);
    assert.equal(trips, 3);
    assert.equal(statements, 6, 'head; BEGIN, the wait bound, row lock+read; the write, COMMIT');
    const again = await pgRoundTripsOf(() => apply.execute({ eventRowId: rowId }));
    assert.equal(again.out.outcome, 'already_applied');
    assert.equal(again.trips, 1);
  });

  describe('applies asked for in one turn go together', () => {
    const feedCount = async (eventId: string) =>
      (await db.prisma.venueFeedEntry.findMany({ where: { locationId: loc.id, kind: 'event.received', entityId: eventId } })).length;
    /** An observer that keeps what ApplyDojoEvent reports: events per transaction, shared transactions that failed. */
    const observed = () => {
      const seen = { applied: [] as number[], sharedFailed: [] as number[] };
      return { seen, observe: { applied: (n: number) => void seen.applied.push(n), sharedFailed: (n: number) => void seen.sharedFailed.push(n) } };
    };

    it('one transaction for events of different intents: 2 round trips for the lot, each with its own outcome', async () => {
      const { seen, observe } = observed();
      const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { observe });
      const ids = ['tg-a', 'tg-b', 'tg-c', 'tg-d'];
      const rows = await Promise.all(ids.map((id) => store(id, `pi_${id}`)));
      const noIntent = await store('tg-noint', undefined);
      const { out, trips } = await pgRoundTripsOf(() =>
        Promise.all([
          ...ids.map((id, i) => apply.execute({ eventRowId: rows[i]!, facts: factsOf(id, `pi_${id}`) })),
          apply.execute({ eventRowId: noIntent, facts: factsOf('tg-noint', undefined) }),
        ]),
      );
      assert.deepEqual(out.map((r) => r.outcome), ['pending_payment', 'pending_payment', 'pending_payment', 'pending_payment', 'applied']);
      assert.equal(trips, 2, 'BEGIN with every lock and read; every write with COMMIT');
      assert.deepEqual(seen.applied, [5], 'one transaction of five reported');
      for (const r of rows) assert.equal(await state(r), 'pending_payment');
      assert.equal(await state(noIntent), 'applied');
      assert.equal(await feedCount('tg-noint'), 1);
      // Again, together: every row is checked under its lock and left alone.
      const again = await Promise.all([apply.execute({ eventRowId: noIntent, facts: factsOf('tg-noint', undefined) }), apply.execute({ eventRowId: rows[0]!, facts: factsOf('tg-a', 'pi_tg-a') })]);
      assert.deepEqual(again.map((r) => r.outcome), ['already_applied', 'pending_payment']);
      assert.equal(await feedCount('tg-noint'), 1, 'took effect once');
    });

    it('an online capture in the lot records its payment on the order inside the shared transaction; the others apply with it', async () => {
      const { seen, observe } = observed();
      const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { observe });
      const order = await fixtures(db.prisma).order(loc.id, { total: 1_500 });
      await db.prisma.paymentIntent.create({
        data: {
          locationId: loc.id, id: '00000000-0000-4000-8000-0000000000c1', paymentIntentId: 'pi_tg_online', orderId: order.id, idempotencyKey: 'tg-online',
          requestHash: 'x', amount: 1_500n, currency: 'GBP', captureMode: 'Auto', tipsAllowed: false, status: 'Authorized',
        },
      });
      const captured = await new DojoEventsRepository(rawOnPg(db.prisma)).store(
        loc.id, eventPayload(loc.dojoAccountId, 'tg-online-captured', 'payment_intent.status_updated', 'pi_tg_online', 'Captured', at), 'webhook', at,
      );
      const other = await store('tg-online-other', 'pi_tg_online_other');
      const noIntent = await store('tg-online-noint', undefined);
      const out = await Promise.all([
        apply.execute({ eventRowId: captured!.id, facts: factsOf('tg-online-captured', 'pi_tg_online', 'Captured') }),
        apply.execute({ eventRowId: other, facts: factsOf('tg-online-other', 'pi_tg_online_other') }),
        apply.execute({ eventRowId: noIntent, facts: factsOf('tg-online-noint', undefined) }),
      ]);
      assert.deepEqual(out.map((r) => r.outcome), ['applied', 'pending_payment', 'applied']);
      assert.deepEqual(seen, { applied: [3], sharedFailed: [] }, 'one transaction for the three');
      const payment = await db.prisma.payment.findUniqueOrThrow({ where: { locationId_paymentIntentId: { locationId: loc.id, paymentIntentId: 'pi_tg_online' } } });
      assert.equal(Number(payment.paidAmount), 1_500);
      assert.equal(payment.intentStatus, 'Captured');
      const paid = await db.prisma.order.findUniqueOrThrow({ where: { locationId_id: { locationId: loc.id, id: order.id } } });
      assert.equal(Number(paid.paidAmount), 1_500, 'the order is paid');
      assert.equal(await state(captured!.id), 'applied');
      assert.equal(await feedCount('tg-online-noint'), 1);
    });

    it('a second event of the same intent is applied alone (its reads must follow the first one\'s apply)', async () => {
      const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'));
      const first = await store('tg-same-1', 'pi_tg_same');
      const second = await store('tg-same-2', 'pi_tg_same');
      const other = await store('tg-same-other', 'pi_tg_same_other');
      const { out, trips } = await pgRoundTripsOf(() =>
        Promise.all([
          apply.execute({ eventRowId: first, facts: factsOf('tg-same-1', 'pi_tg_same') }),
          apply.execute({ eventRowId: second, facts: factsOf('tg-same-2', 'pi_tg_same') }),
          apply.execute({ eventRowId: other, facts: factsOf('tg-same-other', 'pi_tg_same_other') }),
        ]),
      );
      assert.deepEqual(out.map((r) => r.outcome), ['pending_payment', 'pending_payment', 'pending_payment']);
      assert.equal(trips, 4, 'the first and the other together (2), the second alone (2)');
    });

    it('a row gone from the lot: nothing of the shared transaction stays, and each event is applied alone', async () => {
      const { seen, observe } = observed();
      const apply = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { observe });
      const kept = await store('tg-gone-kept', undefined);
      const pending = await store('tg-gone-pending', 'pi_tg_gone');
      const missing = '00000000-0000-4000-8000-0000000000aa';
      const out = await Promise.all([
        apply.execute({ eventRowId: kept, facts: factsOf('tg-gone-kept', undefined) }),
        apply.execute({ eventRowId: missing, facts: factsOf('tg-gone-missing', 'pi_tg_gone_missing') }),
        apply.execute({ eventRowId: pending, facts: factsOf('tg-gone-pending', 'pi_tg_gone') }),
      ]);
      assert.deepEqual(out.map((r) => r.outcome), ['applied', 'missing', 'pending_payment']);
      assert.deepEqual(seen.sharedFailed, [3], 'the shared transaction failed once and its events went alone');
      assert.deepEqual(seen.applied.sort(), [1, 1], 'the two rows there applied alone (the gone one opens no transaction that commits)');
      assert.equal(await feedCount('tg-gone-kept'), 1, 'applied once: the rolled-back attempt left nothing');
    });

    it('two appliers opening the same intents in opposite orders wait for each other: no deadlock, no fallback', async () => {
      const a = observed();
      const b = observed();
      const applyA = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { observe: a.observe });
      const applyB = new ApplyDojoEvent(db.prisma, createLogger('test', 'silent'), { observe: b.observe });
      for (let round = 0; round < 3; round++) {
        const [x, y] = [`pi_tg_x_${round}`, `pi_tg_y_${round}`];
        const ev = async (n: number, intent: string) => {
          const id = `tg-dl-${round}-${n}`;
          return { eventRowId: await store(id, intent), facts: factsOf(id, intent) };
        };
        const [e1, e2, e3, e4] = await Promise.all([ev(1, x), ev(2, y), ev(3, y), ev(4, x)]);
        // x's lock is held elsewhere while both open: A waits for x first; B, were it to take y before x, would hold y
        // while waiting for x, and A would then wait for y: a deadlock once x is free.
        let release!: () => void;
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => (locked = r));
        const holder = db.prisma.$transaction(async (tx) => {
          await tx.$queryRaw(OrdersRepository.lockPaymentIntentSql(loc.id, x));
          locked();
          await new Promise<void>((r) => (release = r));
        });
        await isLocked;
        const applying = Promise.all([applyA.execute(e1), applyA.execute(e2), applyB.execute(e3), applyB.execute(e4)]);
        await new Promise((r) => setTimeout(r, 150));
        release();
        await holder;
        const out = await applying;
        assert.deepEqual(out.map((r) => r.outcome), ['pending_payment', 'pending_payment', 'pending_payment', 'pending_payment']);
      }
      assert.deepEqual([...a.seen.sharedFailed, ...b.seen.sharedFailed], [], 'every shared transaction committed');
      assert.deepEqual([...a.seen.applied, ...b.seen.applied], [2, 2, 2, 2, 2, 2], 'two events in each');
    });
  });
});
