import { DomainError, isForeignKeyViolation } from '../errors';
import type { AdminDeps } from '../ports';

/** Deletes a software house that has no locations left. */
export class DeleteSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string): Promise<void> {
    try {
      if (!(await this.d.softwareHouses.delete(id))) throw DomainError.notFound('software house', id);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw DomainError.conflict('the software house still has locations; delete them first');
      throw err;
    }
  }
}
