import { DomainError, isUniqueViolation } from '../errors';
import type { AdminDeps } from '../ports';
import type { SoftwareHouseInput, SoftwareHouseView} from '../software-house-view';
import { toSoftwareHouseView } from '../software-house-view';

/** Registers a software house (an EPOS vendor account at Dojo). */
export class CreateSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(input: SoftwareHouseInput): Promise<SoftwareHouseView> {
    try {
      return toSoftwareHouseView(await this.d.softwareHouses.create({ name: input.name, dojoSoftwareHouseId: input.dojoSoftwareHouseId, resellerId: input.resellerId ?? null }));
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict(`a software house with dojoSoftwareHouseId ${JSON.stringify(input.dojoSoftwareHouseId)} exists`);
      throw err;
    }
  }
}
