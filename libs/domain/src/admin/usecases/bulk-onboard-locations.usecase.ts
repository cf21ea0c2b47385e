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

/** Onboards many venues; each row succeeds or fails on its own and the outcome of each is reported. */
export class BulkOnboardLocations {
  constructor(private readonly d: AdminDeps) {}

  async execute(rows: OnboardLocationInput[]): Promise<{ created: number; failed: number; results: BulkRowOutcome[] }> {
    const one = new OnboardLocation(this.d);
    const results: BulkRowOutcome[] = [];
    for (const [index, row] of rows.entries()) {
      try {
        results.push({ index, dojoAccountId: row.dojoAccountId, ok: true, location: await one.execute(row) });
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        results.push({ index, dojoAccountId: row.dojoAccountId, ok: false, error: { kind: err.kind, message: err.message, fields: err.fields } });
      }
    }
    const created = results.filter((r) => r.ok).length;
    return { created, failed: results.length - created, results };
  }
}
