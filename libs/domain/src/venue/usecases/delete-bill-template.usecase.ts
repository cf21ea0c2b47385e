import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Removes the bill template (printed bills then carry no extra lines). */
export class DeleteBillTemplate {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string): Promise<void> {
    const { count } = await this.d.prisma.billTemplate.deleteMany({ where: { locationId } });
    if (count === 0) throw DomainError.notFound('bill template', locationId);
  }
}
