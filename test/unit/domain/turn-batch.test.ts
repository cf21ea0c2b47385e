import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatch } from '@app/domain/shared/turn-batch';

describe('TurnBatch: the calls of one turn handed over together', () => {
  it('hands the calls of a turn over together, in chunks of at most maxBatch, and the next turn apart', async () => {
    const chunks: number[][] = [];
    const batch = new TurnBatch<number, number>(async (calls) => {
      chunks.push(calls.map((c) => c.item));
      for (const c of calls) c.resolve(c.item * 10);
    }, 2);
    const first = await Promise.all([1, 2, 3, 4, 5].map((n) => batch.add(n)));
    assert.deepEqual(first, [10, 20, 30, 40, 50]);
    assert.deepEqual(chunks, [[1, 2], [3, 4], [5]]);
    assert.equal(await batch.add(6), 60);
    assert.deepEqual(chunks.at(-1), [6], 'a later turn is a batch of its own');
  });

  it('rejects the calls of a chunk whose flush throws, and leaves other chunks alone', async () => {
    const batch = new TurnBatch<number, number>(async (calls) => {
      if (calls.some((c) => c.item === 2)) throw new Error('flush failed');
      for (const c of calls) c.resolve(c.item);
    }, 2);
    const out = await Promise.allSettled([1, 2, 3].map((n) => batch.add(n)));
    assert.deepEqual(out.map((o) => o.status), ['rejected', 'rejected', 'fulfilled']);
    assert.match(String((out[0] as PromiseRejectedResult).reason), /flush failed/);
  });
});
