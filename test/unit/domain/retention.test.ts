/**
 * Retention without a database: the cut-offs of a policy (core/rules retention), the order and batching of a
 * pass over stand-in repositories that record what they were asked, and the sweeper's schedule.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { DEFAULT_RETENTION, retentionCutoffs } from '@app/domain/core/rules';
import type { RetentionPass, RetentionRepositories } from '@app/domain/retention';
import { PruneExpiredRecords, RetentionSweeper } from '@app/domain/retention';

const log = createLogger('test', 'silent');
const now = new Date('2026-12-02T12:00:00.000Z');

describe('retention: cut-offs', () => {
  it('each period back from now, in whole days; 0 days keeps for ever', () => {
    const c = retentionCutoffs(now, { ...DEFAULT_RETENTION, discardedDays: 0 });
    assert.equal(c.requests?.toISOString(), '2026-11-25T12:00:00.000Z');
    assert.equal(c.delivered?.toISOString(), '2026-11-02T12:00:00.000Z');
    assert.equal(c.pendingPayment?.toISOString(), '2026-11-02T12:00:00.000Z');
    assert.equal(c.discarded, null);
  });
});

/** Stand-in repositories: each kind has `left` rows past its cut-off and removes up to the batch's limit. */
function standIns(left: Record<string, number>, calls: string[]): RetentionRepositories {
  const take = (kind: string) => async (_before: Date, limit: number) => {
    calls.push(kind);
    const n = Math.min(limit, left[kind] ?? 0);
    left[kind] = (left[kind] ?? 0) - n;
    return n;
  };
  return {
    requests: { deleteStoredBefore: take('processed_requests') },
    outbox: { deleteSentBefore: take('pos_events_sent'), deleteDiscardedBefore: take('pos_events_discarded') },
    events: {
      deleteAppliedBefore: take('dojo_events_applied'),
      deleteDiscardedBefore: take('dojo_events_discarded'),
      discardPendingPaymentBefore: (b: Date, n: number) => take('dojo_events_pending_payment')(b, n),
    },
    feed: { deleteBefore: take('venue_feed') },
  };
}

describe('retention: a pass', () => {
  it('discards waiting events first, then drains each kind batch by batch until a batch comes back short', async () => {
    const calls: string[] = [];
    const counted: [string, number][] = [];
    const prune = new PruneExpiredRecords(standIns({ processed_requests: 5, venue_feed: 2 }, calls), DEFAULT_RETENTION, { batchSize: 2, pauseMs: 0, onRemoved: (r, n) => counted.push([r, n]) }, log);
    const pass = await prune.runPass(now);
    assert.equal(pass.complete, true);
    assert.equal(pass.removed.processed_requests, 5);
    assert.equal(pass.removed.venue_feed, 2);
    assert.deepEqual(calls, [
      'dojo_events_pending_payment',
      'processed_requests', 'processed_requests', 'processed_requests',
      'pos_events_sent', 'pos_events_discarded', 'dojo_events_applied', 'dojo_events_discarded',
      'venue_feed', 'venue_feed',
    ]);
    assert.deepEqual(counted, [['processed_requests', 2], ['processed_requests', 2], ['processed_requests', 1], ['venue_feed', 2]]);
  });

  it('stops a kind at its share of batches, and skips kinds kept for ever', async () => {
    const calls: string[] = [];
    const policy = { ...DEFAULT_RETENTION, requestsDays: 0 };
    const pass = await new PruneExpiredRecords(standIns({ processed_requests: 9, pos_events_sent: 9 }, calls), policy, { batchSize: 2, maxBatchesPerKind: 2, pauseMs: 0 }, log).runPass(now);
    assert.equal(pass.complete, false);
    assert.equal(pass.removed.pos_events_sent, 4);
    assert.ok(!calls.includes('processed_requests'));
  });

  it('stop() ends a pass after its current batch', async () => {
    const calls: string[] = [];
    const repos = standIns({ processed_requests: 100 }, calls);
    const prune = new PruneExpiredRecords(repos, DEFAULT_RETENTION, { batchSize: 10, pauseMs: 0 }, log);
    const inner = repos.requests.deleteStoredBefore;
    repos.requests.deleteStoredBefore = async (b, n) => {
      if (calls.filter((c) => c === 'processed_requests').length === 1) prune.stop();
      return inner(b, n);
    };
    const pass = await prune.runPass(now);
    assert.equal(pass.complete, false);
    assert.equal(pass.removed.processed_requests, 20);
  });
});

describe('retention: the sweeper', () => {
  it('runs the next pass at once when one stopped with more to remove, else after the interval; a failure waits for the interval', async () => {
    const at: number[] = [];
    const results: (RetentionPass | Error)[] = [
      { removed: {} as RetentionPass['removed'], complete: false },
      new Error('postgres went away'),
      { removed: {} as RetentionPass['removed'], complete: true },
    ];
    const start = Date.now();
    const sweeper = new RetentionSweeper(
      {
        runPass: async () => {
          at.push(Date.now() - start);
          const r = results.shift() ?? { removed: {} as RetentionPass['removed'], complete: true };
          if (r instanceof Error) throw r;
          return r;
        },
        stop: () => undefined,
      },
      { intervalMs: 600, firstAfterMs: 10 },
      log,
    );
    sweeper.start();
    await new Promise((r) => setTimeout(r, 900));
    await sweeper.stop();
    // First at ~10 ms; the incomplete pass is followed at once; after the failed one the next waits 600 ms; the
    // complete one's successor would come at ~1,210 ms, after stop().
    assert.equal(at.length, 3, JSON.stringify(at));
    assert.ok(at[1]! - at[0]! < 300, `again at once: ${JSON.stringify(at)}`);
    assert.ok(at[2]! - at[1]! >= 590, `a failure waits for the interval: ${JSON.stringify(at)}`);
  });
});
