/**
 * requestHash (shared/request-hash.ts): the fingerprint stored with an idempotency key (payment intents and their
 * operations, counter transactions). Stored rows are compared with it when a key comes again, so its output is
 * pinned here: SHA-256 (hex) of the request's JSON with BigInts as decimal strings.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requestHash } from '@app/domain/shared/request-hash';

describe('requestHash: the idempotency fingerprint of a request', () => {
  it('is the SHA-256 of the JSON, BigInts written as strings (the stored rows were hashed so)', () => {
    const request = { o: 'order-1', a: 1500n, t: true, c: 'auto', d: null };
    // sha256('{"o":"order-1","a":"1500","t":true,"c":"auto","d":null}'), computed outside the code under test
    assert.equal(requestHash(request), '9099a9992abc648ceacfc98e09f355ea5175249df1598a804ecfbc44f7bbba88');
  });

  it('tells a BigInt amount from the same digits sent as a number, and a changed field from the original', () => {
    const base = { k: 'sale', t: 'tid-1', a: 1000n, cb: null, c: 'GBP', o: null };
    assert.equal(requestHash(base), requestHash({ ...base }));
    assert.notEqual(requestHash(base), requestHash({ ...base, a: 1000 }));
    assert.notEqual(requestHash(base), requestHash({ ...base, a: 1001n }));
    assert.notEqual(requestHash(base), requestHash({ ...base, o: 'order-2' }));
  });

  it('writes BigInts as strings at any depth', () => {
    assert.equal(requestHash({ amounts: [{ v: 5n }] }), requestHash({ amounts: [{ v: '5' }] }));
  });
});
