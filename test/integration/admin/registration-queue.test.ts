import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import type { CapabilityRegistrar } from '@app/queue';
import { BullmqRegistrationScheduler, CapabilityRegistrationWorker, JobEnqueuer, JobName } from '@app/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@app/testing';

/**
 * The registration queue on its own (Redis, no database): a registrar that answers as scripted and records what each
 * attempt was told, against the real scheduler and worker.
 */
describe('registration queue: a change starts the registration again from nothing', () => {
  const log = createLogger('test', 'silent');
  const queue = { redisUrl: testRedisUrl(), prefix: uniquePrefix('regq') };
  /** Each attempt: its location and whether it was the job's last. */
  const calls: { locationId: string; finalAttempt: boolean }[] = [];
  /** How the next attempt of a location ends (default: a transient failure). */
  const script = new Map<string, () => Promise<Awaited<ReturnType<CapabilityRegistrar['execute']>>>>();
  let scheduler: BullmqRegistrationScheduler;
  let worker: CapabilityRegistrationWorker;
  const jobs = new JobEnqueuer(queue);

  before(async () => {
    // Two attempts per registration, the retry a minute away: a failed first attempt leaves a delayed job whose next attempt is its last.
    scheduler = new BullmqRegistrationScheduler(queue, { attempts: 2, backoffMs: 60_000 }, log);
    worker = new CapabilityRegistrationWorker(
      { ...queue, concurrency: 5 },
      {
        execute: async (locationId, opts) => {
          calls.push({ locationId, finalAttempt: opts.finalAttempt });
          return (script.get(locationId) ?? (async () => ({ outcome: 'retry' as const, error: 'Dojo answered 503' })))();
        },
      },
      log,
    );
    worker.start();
    await worker.waitUntilReady();
  });

  after(async () => {
    await worker?.close();
    await scheduler?.close();
    await jobs.close();
  });

  const callsOf = (id: string) => calls.filter((c) => c.locationId === id);

  it('a change while a retry waits replaces it with a fresh job: its first attempt is not the old job\'s last', async () => {
    const id = 'loc-delayed';
    await scheduler.schedule(id);
    await waitFor(() => callsOf(id).length === 1 || undefined, 'the first attempt ran');
    assert.equal(callsOf(id)[0]!.finalAttempt, false);
    // Its retry now waits a minute, with one of its two attempts spent. The key is rotated: schedule now.
    await waitFor(async () => (await (await jobs.getJob(JobName.RegisterCapabilities, `reg.${id}`))?.getState()) === 'delayed' || undefined, 'its retry waits');
    await scheduler.schedule(id, { now: true });
    await waitFor(() => callsOf(id).length === 2 || undefined, 'the new key is tried at once');
    assert.equal(callsOf(id)[1]!.finalAttempt, false, 'a fresh job: one transient failure does not make it a dead letter');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(callsOf(id).length, 2, 'one job, not two: the waiting retry was replaced');
  });

  it('a change while an attempt runs leaves it running and adds a follow-up with every attempt', async () => {
    const id = 'loc-active';
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    script.set(id, async () => (await held, { outcome: 'registered' as const, capabilities: [] }));
    await scheduler.schedule(id);
    await waitFor(() => callsOf(id).length === 1 || undefined, 'the first attempt is running');
    script.set(id, async () => ({ outcome: 'registered' as const, capabilities: [] }));
    await scheduler.schedule(id, { now: true });
    await waitFor(() => callsOf(id).length === 2 || undefined, 'the follow-up runs beside it');
    assert.equal(callsOf(id)[1]!.finalAttempt, false);
    release();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(callsOf(id).length, 2, 'the running attempt was neither removed nor run again');
  });
});
