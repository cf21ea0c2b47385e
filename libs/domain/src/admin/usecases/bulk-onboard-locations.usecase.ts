import type { FieldError } from '../errors';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView } from '../location-view';
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
 * Onboards many venues; each row succeeds or fails on its own and the outcome of each is reported. A failure that is
 * not the row's (the database or Redis failing, a bug) is reported as kind `internal` and the next rows are still
 * tried: stopping there would answer a bare 500 after committing the rows before it, leaving the caller unable to
 * tell which were onboarded. `onInternal` hears the error itself (to log it; the answer does not carry it).
 */
export class BulkOnboardLocations {
  constructor(private readonly d: AdminDeps) {}

  async execute(
    rows: OnboardLocationInput[],
    opts: { onInternal?: (index: number, err: unknown) => void } = {},
  ): Promise<{ created: number; failed: number; results: BulkRowOutcome[] }> {
    const one = new OnboardLocation(this.d);
    const results: BulkRowOutcome[] = [];
    for (const [index, row] of rows.entries()) {
      try {
        results.push({ index, dojoAccountId: row.dojoAccountId, ok: true, location: await one.execute(row) });
      } catch (err) {
        if (err instanceof DomainError) {
          results.push({ index, dojoAccountId: row.dojoAccountId, ok: false, error: { kind: err.kind, message: err.message, fields: err.fields } });
          continue;
        }
        opts.onInternal?.(index, err);
        // It may have failed after its commit (announcing it, say): the operator looks before sending it again.
        const message = 'internal error: this row may not have been onboarded; look it up by dojoAccountId before sending it again';
        results.push({ index, dojoAccountId: row.dojoAccountId, ok: false, error: { kind: 'internal', message, fields: [] } });
      }
    }
    const created = results.filter((r) => r.ok).length;
    return { created, failed: results.length - created, results };
  }
}
