/**
 * The gateway's book of locations (LocationBook): reads of Postgres that overlap and finish out of order never
 * let an older view undo a newer one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LocationConfig } from '@app/gateway';
import { LocationBook } from '@app/gateway';

const loc = (configVersion: number, apiKey = 'sk_sandbox_old'): LocationConfig => ({
  id: '11111111-1111-4111-8111-111111111111', name: 'The Anchor', enabled: true, configVersion, capabilities: [], apiKey, softwareHouseId: 'sh', profile: 'epos-data',
});

describe('LocationBook: overlapping reads of the locations', () => {
  it('a full read that started before a change but finished after it does not put the old key back', () => {
    const book = new LocationBook();
    book.put(book.startRead(), loc(1));
    const full = book.startRead(); // the periodic loadAll starts: its snapshot holds version 1
    const change = book.startRead(); // the key is rotated; the change's loadOne starts later and finishes first
    assert.equal(book.put(change, loc(2, 'sk_sandbox_new')), true);
    assert.equal(book.put(full, loc(1)), false, "the older read's view is ignored");
    assert.equal(book.get(loc(1).id)?.apiKey, 'sk_sandbox_new');
  });

  it('a location removed meanwhile is not brought back by an older read, nor removed by one', () => {
    const book = new LocationBook();
    const id = loc(1).id;
    book.put(book.startRead(), loc(1));
    const full = book.startRead();
    assert.equal(book.remove(book.startRead(), id), true, 'deleted (or disabled) after the full read began');
    assert.equal(book.put(full, loc(1)), false);
    assert.equal(book.has(id), false);
    // And the other way round: re-added by a newer read, an older full read that did not see it leaves it.
    const older = book.startRead();
    book.put(book.startRead(), loc(3));
    book.keepOnly(older, new Set());
    assert.equal(book.get(id)?.configVersion, 3);
  });

  it('reads in order apply as they come; a full read removes what it did not see', () => {
    const book = new LocationBook();
    book.put(book.startRead(), loc(1));
    assert.equal(book.put(book.startRead(), loc(2)), true);
    assert.equal(book.size, 1);
    book.keepOnly(book.startRead(), new Set());
    assert.equal(book.size, 0);
    assert.equal(book.put(book.startRead(), loc(4)), true, 'a later read adds it again');
  });
});
