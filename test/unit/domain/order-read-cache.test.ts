import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OrderReadCache } from '@app/domain/rpc';
import type { CachedSearch } from '@app/domain/rpc';
import { ConnectPat, LONGEST_CHANGE_DEADLINE_MS, METHOD_INFO, EPOS_METHODS, TABLES_METHOD_INFO } from '@app/contracts';
import { defaultProfiles } from '@app/gateway';

type Order = NonNullable<ReturnType<OrderReadCache['order']>>;

/** Enough of an order for the cache, which only keeps and hands back what it is given. */
function order(id: string, paid = 0n): Order {
  return { id, paidAmount: paid, items: [{ name: 'Tea', modifiers: [{ name: 'milk' }] }], payments: [], createdAt: new Date(0) } as unknown as Order;
}
const page = (...ids: string[]): CachedSearch => ({ rows: ids.map((id) => order(id)), beyond: false });

function cache(o: Partial<ConstructorParameters<typeof OrderReadCache>[0]> = {}) {
  let t = 1_000;
  const c = new OrderReadCache({ maxOrders: 100, maxAgeMs: 60_000, now: () => t, ...o });
  c.setLive(true);
  return { c, tick: (ms: number) => (t += ms) };
}

describe('OrderReadCache', () => {
  it('keeps what was read and answers with it; a search keeps its orders too', () => {
    const { c } = cache();
    assert.equal(c.order('L1', 'o1'), undefined);
    c.keepSearch(c.ticket(), 'L1', 'k', page('o1', 'o2'));
    assert.deepEqual(c.search('L1', 'k')!.rows.map((o) => o.id), ['o1', 'o2']);
    assert.equal(c.order('L1', 'o2')!.id, 'o2');
    c.keepOrder(c.ticket(), 'L1', 'o9', null);
    assert.equal(c.order('L1', 'o9'), null, 'an order read as absent is kept as absent');
    assert.equal(c.order('L2', 'o1'), undefined, 'locations never share entries');
    assert.deepEqual([c.hits, c.misses], [3, 2]);
  });

  it('drops a location on a change, and does not keep a read that began before it', () => {
    const { c } = cache();
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    c.keepOrder(c.ticket(), 'L2', 'o1', order('o1'));
    const before = c.ticket();
    c.changed('L1');
    assert.equal(c.order('L1', 'o1'), undefined);
    assert.equal(c.order('L2', 'o1')!.id, 'o1', 'other locations keep theirs');
    c.keepOrder(before, 'L1', 'o1', order('o1', 5n));
    assert.equal(c.order('L1', 'o1'), undefined, 'a read that raced the change is not kept');
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1', 7n));
    assert.equal(c.order('L1', 'o1')!.paidAmount, 7n, 'a read begun after the change is');
  });

  it('serves and keeps nothing while the feed is down, and forgets everything when it goes down or comes back', () => {
    const { c } = cache();
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    const during = c.ticket();
    c.setLive(false);
    assert.equal(c.order('L1', 'o1'), undefined);
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.size, 0);
    c.setLive(true);
    c.keepOrder(during, 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1'), undefined, 'a read begun before the outage is not kept after it');
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1')!.id, 'o1');
    c.changedAll();
    assert.equal(c.order('L1', 'o1'), undefined, "'*' (a TRUNCATE) drops every location");
  });

  it('keeps nothing of a location until its grace has passed since it was first seen or its lease was taken here again', () => {
    const { c, tick } = cache({ graceMs: 15_000 });
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1'), undefined, 'first seen: the grace starts');
    tick(14_999);
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1'), undefined);
    tick(1);
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1')!.id, 'o1');
    const before = c.ticket();
    c.forget('L1');
    assert.equal(c.order('L1', 'o1'), undefined);
    // A read still in flight when the link closed starts no grace: the venue is not held here any more.
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    tick(20_000);
    c.keepOrder(before, 'L1', 'o1', order('o1'));
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1'), undefined, 'forgotten (the link closed): nothing kept, and no read from before');
    // The lease comes back here minutes later: a new grace from then, not from that late read.
    c.own('L1');
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1'), undefined, 'taken again: a new grace');
    tick(15_000);
    c.keepOrder(c.ticket(), 'L1', 'o1', order('o1'));
    assert.equal(c.order('L1', 'o1')!.id, 'o1');
  });

  it('expires entries after maxAgeMs', () => {
    const { c, tick } = cache({ maxAgeMs: 1_000 });
    c.keepSearch(c.ticket(), 'L1', 'k', page('o1'));
    tick(1_000);
    assert.ok(c.search('L1', 'k'));
    tick(1);
    assert.equal(c.search('L1', 'k'), undefined);
    assert.equal(c.order('L1', 'o1'), undefined);
    assert.equal(c.size, 0);
  });

  it('holds at most maxOrders, dropping the least recently used venues first', () => {
    const { c } = cache({ maxOrders: 5 });
    c.keepSearch(c.ticket(), 'L1', 'k', page('a', 'b')); // the page weighs 2, and its two orders 1 each
    c.keepOrder(c.ticket(), 'L2', 'x', order('x'));
    assert.equal(c.size, 5);
    assert.ok(c.order('L1', 'a'), 'L1 read: now the most recently used');
    c.keepOrder(c.ticket(), 'L3', 'y', order('y'));
    assert.equal(c.size, 5, 'L2 dropped to make room');
    assert.equal(c.order('L2', 'x'), undefined);
    assert.ok(c.order('L1', 'b'));
    assert.ok(c.order('L3', 'y'));
  });

  it('keeps other reads of a venue (the Tables API session list) under the same rules, weighed as asked', () => {
    const { c, tick } = cache({ maxOrders: 10, maxAgeMs: 1_000 });
    const before = c.ticket();
    c.changed('L1');
    c.keepRead(before, 'L1', 'sessions:{}', { orders: [] }, []);
    assert.equal(c.read('L1', 'sessions:{}'), undefined, 'a read that raced a change is not kept');
    const listed = [order('o1'), order('o2')];
    c.keepRead(c.ticket(), 'L1', 'sessions:{}', { orders: listed }, listed);
    assert.equal(c.size, 5, 'the list weighs 1 + its 2 orders, and each order kept weighs 1');
    const kept = c.read<{ orders: Order[] }>('L1', 'sessions:{}')!;
    assert.equal(kept.orders[0]!.id, 'o1');
    assert.equal(c.order('L1', 'o2')!.id, 'o2', "the list's orders are kept for the next get");
    assert.throws(() => kept.orders.push(order('o2')), TypeError, 'frozen');
    c.changed('L1');
    assert.equal(c.read('L1', 'sessions:{}'), undefined);
    assert.equal(c.size, 0);
    c.keepRead(c.ticket(), 'L1', 'k', 1, []);
    tick(1_001);
    assert.equal(c.read('L1', 'k'), undefined, 'expired');
    assert.equal(c.size, 0);
  });

  it('hands out frozen orders and fresh arrays, so no caller can alter what the next one reads', () => {
    const { c } = cache();
    c.keepSearch(c.ticket(), 'L1', 'k', page('o1', 'o2'));
    const first = c.search('L1', 'k')!;
    (first.rows as Order[]).reverse();
    assert.deepEqual(c.search('L1', 'k')!.rows.map((o) => o.id), ['o1', 'o2']);
    const o = c.order('L1', 'o1')! as unknown as { paidAmount: bigint; items: { modifiers: { name: string }[] }[] };
    assert.throws(() => (o.paidAmount = 1n), TypeError);
    assert.throws(() => o.items.push({ modifiers: [] }), TypeError);
    assert.throws(() => (o.items[0]!.modifiers[0]!.name = 'oat'), TypeError);
  });
});

describe('LONGEST_CHANGE_DEADLINE_MS (the read cache grace)', () => {
  it('is at least every change deadline of every profile', () => {
    const profiles = defaultProfiles();
    const changes: [string, string[]][] = [
      ['epos-data', EPOS_METHODS.filter((m) => METHOD_INFO[m].mutates)],
      ['dojo-tables', Object.keys(TABLES_METHOD_INFO).filter((m) => TABLES_METHOD_INFO[m as keyof typeof TABLES_METHOD_INFO].mutates)],
    ];
    for (const [name, methods] of changes) {
      const p = [...profiles.values()].find((x) => x.name === name || x.dialect === name);
      assert.ok(p, name);
      assert.ok(methods.length > 0, name);
      for (const m of methods) assert.ok(p.deadlineMs(m) <= LONGEST_CHANGE_DEADLINE_MS, `${name} ${m}: ${p.deadlineMs(m)} ms`);
    }
    const pat = [...profiles.values()].find((x) => x.dialect === 'connect-pat');
    assert.ok(pat);
    for (const m of ConnectPat.PAT_MUTATING) {
      assert.ok(pat.mutates(m), `connect-pat ${m} is a change`);
      assert.ok(pat.deadlineMs(m) <= LONGEST_CHANGE_DEADLINE_MS, `connect-pat ${m}: ${pat.deadlineMs(m)} ms`);
    }
    // Connect PAC's requests are not changes to the dispatcher (its writes are announced like any other process's).
    const pac = [...profiles.values()].find((x) => x.dialect === 'connect-pac');
    assert.ok(pac && !pac.mutates('signatureVerificationRequest'));
  });
});
