/**
 * jsonText (shared/json-value.ts), the JSON text of every jsonb parameter the repositories send: BigInt values (the
 * bigint columns' ids and amounts) become numbers, whichever way the text is made (plain JSON.stringify first, the
 * replacer only when that throws on a BigInt), and toJson (Prisma Json columns) agrees with it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonText } from '@app/domain/shared/json-value';
import { toJson } from '@app/domain/shared/venue-feed';

describe('jsonText: BigInt-safe JSON for jsonb parameters', () => {
  it('writes plain values as JSON.stringify does', () => {
    const v = { orderId: 'o1', amounts: [1, 2.5], at: new Date('2026-12-01T00:00:00.000Z'), gone: undefined, note: null };
    assert.equal(jsonText(v), JSON.stringify(v));
    assert.equal(jsonText('text'), '"text"');
  });

  it('writes BigInt values as numbers, at any depth', () => {
    assert.equal(jsonText({ id: 12n, payments: [{ amount: 1500n, tips: 0n }] }), '{"id":12,"payments":[{"amount":1500,"tips":0}]}');
    assert.equal(jsonText(7n), '7');
  });

  it('writes null for what JSON has no text for (undefined, a function)', () => {
    assert.equal(jsonText(undefined), 'null');
    assert.equal(jsonText(() => 1), 'null');
  });

  it('still refuses a circular value, and passes on an error of a toJSON', () => {
    const loop: Record<string, unknown> = { a: 1n };
    loop.self = loop;
    assert.throws(() => jsonText(loop), TypeError);
    class Boom extends Error {}
    assert.throws(() => jsonText({ toJSON: () => { throw new Boom('no'); } }), Boom);
  });

  it('toJson (Prisma Json columns) is the same value, parsed', () => {
    assert.deepEqual(toJson({ deposit: { amount: 2500n, currency: 'GBP' } }), { deposit: { amount: 2500, currency: 'GBP' } });
  });
});
