import { DomainError, isUniqueViolation } from '../errors';
import type { AdminDeps } from '../ports';
import type { SoftwareHouseInput, SoftwareHouseView} from '../software-house-view';
import { toSoftwareHouseView } from '../software-house-view';

/**
 * Changes the given fields of a software house. Dojo's software-house-id and the reseller id go out on every
 * link of its locations (handshake headers): a change to either bumps each location's config version and tells
 * the gateways, which re-dial with the new values at once.
 */
export class UpdateSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string, input: Partial<SoftwareHouseInput>): Promise<SoftwareHouseView> {
    if (!(await this.d.softwareHouses.exists(id))) throw DomainError.notFound('software house', id);
    let row;
    try {
      row = await this.d.softwareHouses.update(id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.dojoSoftwareHouseId !== undefined ? { dojoSoftwareHouseId: input.dojoSoftwareHouseId } : {}),
        ...(input.resellerId !== undefined ? { resellerId: input.resellerId } : {}),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict('another software house has that dojoSoftwareHouseId');
      throw err;
    }
    if (input.dojoSoftwareHouseId !== undefined || input.resellerId !== undefined) {
      for (const loc of await this.d.locations.bumpConfigVersionOfSoftwareHouse(id)) await this.d.publisher.publishChanged(loc.id, loc.configVersion);
    }
    return toSoftwareHouseView(row);
  }
}
