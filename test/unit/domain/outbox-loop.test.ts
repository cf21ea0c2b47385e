import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutboxPass } from '@app/domain/outbox';
import { OutboxLoop } from '@app/domain/outbox';

const pass = (sent: number, more: boolean): OutboxPass => ({ sent, failed: 0, retried: 0, more });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A dispatcher that answers the given passes in turn (then empty ones) and counts the calls. */
function scripted(passes: OutboxPass[]) {
  const calls: number[] = [];
  return {
    calls,
    execute: async () => {
      calls.push(Date.now());
      return passes.shift() ?? pass(0, false);
    },
  };
}

describe('OutboxLoop: when it goes again', () => {
  it('goes again at once while a pass claims a full batch, then waits pollMs', async () => {
    const d = scripted([pass(50, true), pass(50, true), pass(7, false)]);
    const loop = new OutboxLoop(d, 60_000);
    loop.start();
    // "At once" is anything far below pollMs (60 s): a loaded machine may take a while to run the three passes.
    for (const until = Date.now() + 5_000; d.calls.length < 3 && Date.now() < until; ) await sleep(10);
    await sleep(100);
    await loop.stop();
    assert.equal(d.calls.length, 3, 'two full batches, then the rest, then the poll interval');
  });

  it('waits pollMs after a pass that sent events but claimed less than a full batch (everything due was taken)', async () => {
    const d = scripted([pass(5, false), pass(5, false)]);
    const loop = new OutboxLoop(d, 60_000);
    loop.start();
    await sleep(200);
    await loop.stop();
    assert.equal(d.calls.length, 1);
  });

  it('waits pollMs after a failed pass, and kick() runs one now', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const loop = new OutboxLoop(
      {
        execute: async () => {
          n++;
          if (n === 1) throw new Error('database down');
          return pass(0, false);
        },
      },
      60_000,
      (err) => errors.push(err),
    );
    loop.start();
    await sleep(100);
    assert.equal(n, 1);
    assert.equal(errors.length, 1);
    loop.kick();
    await sleep(100);
    await loop.stop();
    assert.equal(n, 2);
  });
});
