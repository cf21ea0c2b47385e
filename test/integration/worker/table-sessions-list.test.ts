/**
 * The Tables API's session lists have no paging, so one answer holds at most
 * MAX_SESSIONS sessions: a long history of finished orders must never push a
 * session that is still open out of that answer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SESSIONS, ordersRepo } from '@app/domain/repositories/orders.repository';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures } from '@app/testing';

describe('table sessions list: open sessions first within the cap', () => {
  let db: TestDatabase;
  let loc: string;

  before(async () => {
    db = await createTestDatabase('sessions');
    const fx = fixtures(db.prisma);
    loc = (await fx.location({ name: 'Busy' })).id;
    await fx.order(loc, { id: 'open-oldest', tableId: 'T1' });
    await fx.orders(Array.from({ length: MAX_SESSIONS + 20 }, (_, i) => ({ locationId: loc, id: `done-${i}`, tableId: 'T2', status: 'Finalized' as const })));
    await fx.order(loc, { id: 'open-newest', tableId: 'T3' });
  });
  after(async () => {
    await db?.drop();
  });

  it('keeps every open session, then the most recent finished ones, listed oldest first', async () => {
    const all = await ordersRepo(db.prisma).findSessions(loc, {});
    assert.equal(all.length, MAX_SESSIONS);
    const ids = all.map((o) => o.id);
    assert.ok(ids.includes('open-oldest'), 'the oldest open session is listed');
    assert.ok(ids.includes('open-newest'));
    assert.ok(!ids.includes('done-0'), 'the oldest finished sessions make room');
    assert.ok(ids.includes(`done-${MAX_SESSIONS + 19}`));
    const seqs = all.map((o) => o.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'oldest first');
    const open = await ordersRepo(db.prisma).findSessions(loc, { finished: false });
    assert.deepEqual(open.map((o) => o.id), ['open-oldest', 'open-newest']);
  });
});
