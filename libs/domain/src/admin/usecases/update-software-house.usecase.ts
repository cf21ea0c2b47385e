import { DomainError, isUniqueViolation } from '../errors';
import type { AdminDeps } from '../ports';
import type { SoftwareHouseInput, SoftwareHouseView} from '../software-house-view';
import { toSoftwareHouseView } from '../software-house-view';

/** Changes the given fields of a software house. */
export class UpdateSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string, input: Partial<SoftwareHouseInput>): Promise<SoftwareHouseView> {
    if (!(await this.d.softwareHouses.exists(id))) throw DomainError.notFound('software house', id);
    try {
      return toSoftwareHouseView(
        await this.d.softwareHouses.update(id, {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.dojoSoftwareHouseId !== undefined ? { dojoSoftwareHouseId: input.dojoSoftwareHouseId } : {}),
          ...(input.resellerId !== undefined ? { resellerId: input.resellerId } : {}),
        }),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict('another software house has that dojoSoftwareHouseId');
      throw err;
    }
  }
}
