import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Removes the bill template (printed bills then carry no extra lines). */
export class DeleteBillTemplate {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string): Promise<void> {
    if (!(await this.d.venue.transaction((s) => s.bills.deleteTemplate(locationId)))) throw DomainError.notFound('bill template', locationId);
  }
}
