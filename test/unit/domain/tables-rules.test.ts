import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSessionFinished, isWaiterAllowed, mayKeepGoneTable, requestIdempotencyKey, tableDeletionRefusal, tableNameRefusal, tableOccupancy, tableSessionId, tablesToFind, waiterNumber } from '@app/domain/core/rules';

const order = (status: string, total: bigint, paid: bigint) => ({ status, payable: paid < total, totalAmount: total, paidAmount: paid });

describe('core rules for table sessions (pay-at-table dialects)', () => {
  it('a session id is a stable version-3 UUID of the location and order', () => {
    const a = tableSessionId('7f73c3c0-0000-4000-8000-000000000001', 'ORD-1');
    assert.equal(a, tableSessionId('7f73c3c0-0000-4000-8000-000000000001', 'ORD-1'));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, tableSessionId('7f73c3c0-0000-4000-8000-000000000002', 'ORD-1'), 'another venue, another session');
    assert.notEqual(a, tableSessionId('7f73c3c0-0000-4000-8000-000000000001', 'ORD-2'));
  });

  it('table occupancy: not in use without covers, occupied while something is owed, pending once all is paid, else available', () => {
    assert.equal(tableOccupancy({ maxCovers: 0 }, [order('Accepted', 100n, 0n)]), 'not_in_use');
    assert.equal(tableOccupancy({ maxCovers: 4 }, []), 'available');
    assert.equal(tableOccupancy({ maxCovers: null }, [order('Finalized', 100n, 100n)]), 'available', 'closed orders do not count');
    assert.equal(tableOccupancy({ maxCovers: 4 }, [order('Accepted', 100n, 100n), order('Accepted', 50n, 10n)]), 'occupied');
    assert.equal(tableOccupancy({ maxCovers: 4 }, [order('Accepted', 100n, 100n)]), 'pending_available');
  });

  it('a table is not deleted while open orders name it, and an order keeps a deleted table only as it was', () => {
    assert.equal(tableDeletionRefusal('t1', 0), undefined);
    assert.match(tableDeletionRefusal('t1', 1)!, /^table "t1" cannot be deleted: 1 open order names it; close it \(PUT with status Finalized or Canceled\) or move it/);
    assert.match(tableDeletionRefusal('t1', 3)!, /: 3 open orders name it; close them/);
    assert.equal(mayKeepGoneTable(undefined, 't1', 'Finalized'), false, 'a new order may not name a gone table');
    assert.equal(mayKeepGoneTable({ tableId: 't2', status: 'Accepted' }, 't1', 'Finalized'), false, 'nor may an order move to one');
    assert.equal(mayKeepGoneTable({ tableId: 't1', status: 'Accepted' }, 't1', 'Accepted'), true, 'an open order there stays editable');
    assert.equal(mayKeepGoneTable({ tableId: 't1', status: 'Accepted' }, 't1', 'Finalized'), true, 'and can be closed');
    assert.equal(mayKeepGoneTable({ tableId: 't1', status: 'Canceled' }, 't1', 'Finalized'), true, 'a closed one stays closed');
    assert.equal(mayKeepGoneTable({ tableId: 't1', status: 'Canceled' }, 't1', 'Accepted'), false, 'but is not opened again there');
    assert.equal(mayKeepGoneTable({ tableId: 't1', status: 'Canceled' }, 't1', undefined), false, 'no status is New: open');
  });

  it("a party's or reservation's write must find only the tables its stored row does not already name (tablesToFind)", () => {
    assert.deepEqual(tablesToFind(['t1', 't2', 't1']), ['t1', 't2'], 'a create finds every table, once each');
    assert.deepEqual(tablesToFind(['t1', 't2'], ['t2']), ['t1'], 'a table the row already names may be gone');
    assert.deepEqual(tablesToFind(['t2'], ['t1', 't2']), []);
    assert.deepEqual(tablesToFind(['t3'], ['t1']), ['t3'], 'a table named anew must exist');
  });

  it('a table name with " - " is refused on the Tables API only (its terminals show "<table> - <session>")', () => {
    assert.match(tableNameRefusal('Bar - 1', 'dojo-tables')!, /^must not contain " - " at a venue on the Tables API/);
    assert.equal(tableNameRefusal('Bar-1', 'dojo-tables'), undefined);
    assert.equal(tableNameRefusal('Bar – 1', 'dojo-tables'), undefined, 'an en dash is not the separator');
    for (const protocol of ['epos-data', 'connect-pat', 'connect-pac']) assert.equal(tableNameRefusal('Bar - 1', protocol), undefined, protocol);
  });

  it('finished sessions and waiter ids', () => {
    assert.equal(isSessionFinished({ status: 'Canceled' }), true);
    assert.equal(isSessionFinished({ status: 'Accepted' }), false);
    assert.equal(isWaiterAllowed('7', '7'), true);
    assert.equal(isWaiterAllowed('7', '8'), false);
    assert.equal(isWaiterAllowed(null, '8'), true, 'an order without a waiter is any waiter\'s');
    assert.equal(isWaiterAllowed('001', '1'), true, 'the Tables API names the venue\'s "001" as 1');
    assert.equal(isWaiterAllowed('1', '001'), true);
    assert.equal(isWaiterAllowed('0', '000'), true);
    assert.equal(isWaiterAllowed('010', '1'), false);
    assert.equal(isWaiterAllowed('w-amy', '1'), false, 'an id that is not digits matches only itself');
    assert.equal(isWaiterAllowed('w-amy', 'w-amy'), true);
    assert.equal(isWaiterAllowed('-1', '1'), false);
    assert.equal(isWaiterAllowed('0001234567890', '1234567890'), false, 'past 9 digits ids are compared as written');
    assert.equal(waiterNumber('001'), 1);
    assert.equal(waiterNumber('999999999'), 999_999_999);
    assert.equal(waiterNumber('1000000000'), undefined, 'past 9 digits: not a Tables API waiter id');
    assert.equal(waiterNumber(' 1'), undefined);
  });

  it('request ids are unique per dialect; EPOS Data keeps its key', () => {
    assert.equal(requestIdempotencyKey('loc', '42'), 'rpc:loc:42');
    assert.equal(requestIdempotencyKey('loc', '42', 'dojo-tables'), 'rpc:dojo-tables:loc:42');
  });
});
