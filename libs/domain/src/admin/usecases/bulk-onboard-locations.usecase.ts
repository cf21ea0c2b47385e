import type { FieldError } from '../errors';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView } from '../location-view';
import { toLocationView } from '../location-view';
import type { LocationRow } from '../../repositories/locations.repository';
import type { OnboardLocationInput } from './onboard-location.usecase';
import { OnboardLocation } from './onboard-location.usecase';

export interface BulkRowOutcome {
  index: number;
  dojoAccountId?: string;
  ok: boolean;
  location?: LocationView;
  error?: { kind: string; message: string; fields: FieldError[] };
}

/**
 * How long the answer waits for the stored rows' announcements (change notices, registration schedules) and how many
 * go at once. With Redis up they take milliseconds each, so all are done well before; with Redis down each fails only
 * after its client's retries (seconds), and the answer goes out at the bound while they finish in the background.
 */
export const BULK_ANNOUNCE_WAIT_MS = 5_000;
const BULK_ANNOUNCE_CONCURRENCY = 50;

/**
 * Onboards many venues; each row succeeds or fails on its own and the outcome of each is reported. A failure that is
 * not the row's (the database failing, a bug) is reported as kind `internal` and the next rows are still tried:
 * stopping there would answer a bare 500 after committing the rows before it, leaving the caller unable to tell which
 * were onboarded. `onInternal` hears the error itself (to log it; the answer does not carry it).
 *
 * The rows are stored first, one by one, and announced after (OnboardLocation.announce), many at once and waited for
 * at most `announceWaitMs`: a Redis outage (each notice failing after seconds) must not hold the answer for an hour
 * and lose the report of rows that all committed. Nothing is lost by not waiting: the gateways re-read every location
 * (GATEWAY_RESYNC_MS), and an epos-data row whose registration was not scheduled stays `pending`, which the worker's
 * sweep schedules again (every minute).
 */
export class BulkOnboardLocations {
  constructor(private readonly d: AdminDeps) {}

  async execute(
    rows: OnboardLocationInput[],
    opts: { onInternal?: (index: number, err: unknown) => void; announceWaitMs?: number } = {},
  ): Promise<{ created: number; failed: number; results: BulkRowOutcome[] }> {
    const one = new OnboardLocation(this.d);
    const results: BulkRowOutcome[] = [];
    const stored: { index: number; row: LocationRow }[] = [];
    for (const [index, input] of rows.entries()) {
      try {
        const row = await one.store(input);
        stored.push({ index, row });
        results.push({ index, dojoAccountId: input.dojoAccountId, ok: true, location: toLocationView(row) });
      } catch (err) {
        if (err instanceof DomainError) {
          results.push({ index, dojoAccountId: input.dojoAccountId, ok: false, error: { kind: err.kind, message: err.message, fields: err.fields } });
          continue;
        }
        opts.onInternal?.(index, err);
        const message = 'internal error: this row may not have been onboarded; look it up by dojoAccountId before sending it again';
        results.push({ index, dojoAccountId: input.dojoAccountId, ok: false, error: { kind: 'internal', message, fields: [] } });
      }
    }
    // A stored row stays onboarded whatever its announcement does; the publisher and the scheduler log their own
    // failures (and recover as said above), so nothing of it is answered.
    await settleWithin(
      stored.map(({ row }) => () => one.announce(row).catch(() => undefined)),
      BULK_ANNOUNCE_CONCURRENCY,
      opts.announceWaitMs ?? BULK_ANNOUNCE_WAIT_MS,
    );
    const created = results.filter((r) => r.ok).length;
    return { created, failed: results.length - created, results };
  }
}

/** Runs the tasks, `concurrency` at a time, and resolves when all are done or after `ms`, whichever is first (the rest go on). */
async function settleWithin(tasks: (() => Promise<void>)[], concurrency: number, ms: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  const all = Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, lane));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  await Promise.race([all, late]).finally(() => clearTimeout(timer));
}
