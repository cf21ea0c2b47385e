import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findUnsafeValue, unsafeStringReason } from '@app/domain/shared/safe-strings';

describe('findUnsafeValue (text Postgres cannot store, JSON nested too deeply)', () => {
  it('accepts ordinary text, including paired surrogates (emoji)', () => {
    assert.equal(findUnsafeValue({ name: 'Café 😀', items: [{ note: 'a\uFFFFb' }], n: 1, b: true, z: null }), undefined);
  });

  it('names the field holding a NUL or a lone surrogate, in values and keys', () => {
    assert.deepEqual(findUnsafeValue({ items: [{ name: 'ok' }, { name: 'a\u0000b' }] }), { field: 'items.1.name', reason: 'must not contain NUL characters (\\u0000)' });
    assert.equal(findUnsafeValue({ a: { b: 'x\ud800' } })?.field, 'a.b');
    assert.equal(findUnsafeValue({ a: '\udc00' })?.reason, 'must not contain unpaired UTF-16 surrogates');
    assert.deepEqual(findUnsafeValue({ a: { 'k\u0000': 1 } }), { field: 'a', reason: 'keys must not contain NUL characters (\\u0000)' });
    assert.equal(findUnsafeValue('\u0000')?.field, '(root)');
    assert.equal(unsafeStringReason('\ud83d\ude00'), undefined);
    assert.ok(unsafeStringReason('\ude00\ud83d'), 'reversed pair is two lone surrogates');
  });

  it('refuses nesting deeper than the limit without recursing (a million levels)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    assert.match(findUnsafeValue(deep)!.reason, /nested more than 64 levels/);
    let ok: unknown = 'x';
    for (let i = 0; i < 63; i++) ok = { a: ok };
    assert.equal(findUnsafeValue(ok), undefined);
  });
});
