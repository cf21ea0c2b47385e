import { DomainError, isUniqueViolation } from '../errors';
import type { AdminDeps } from '../ports';
import type { SoftwareHouseInput, SoftwareHouseView} from '../software-house-view';
import { toSoftwareHouseView } from '../software-house-view';

/**
 * Changes the given fields of a software house. Dojo's software-house-id and the reseller id go out on every
 * link of its locations (handshake headers): a change to either bumps each location's config version and tells
 * the gateways (after the commit), which re-dial with the new values at once. One transaction: the change and
 * the bumps commit together or not at all.
 */
export class UpdateSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string, input: Partial<SoftwareHouseInput>): Promise<SoftwareHouseView> {
    const relinks = input.dojoSoftwareHouseId !== undefined || input.resellerId !== undefined;
    // The change and its locations' config versions commit together: the gateways re-read a location only when its
    // version moves, so a change committed without the bump would stay off their links.
    let out;
    try {
      out = await this.d.softwareHouses.transaction(async (houses, locations) => {
        const row = await houses.update(id, {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.dojoSoftwareHouseId !== undefined ? { dojoSoftwareHouseId: input.dojoSoftwareHouseId } : {}),
          ...(input.resellerId !== undefined ? { resellerId: input.resellerId } : {}),
        });
        if (!row) throw DomainError.notFound('software house', id);
        return { row, bumped: relinks ? await locations.bumpConfigVersionOfSoftwareHouse(id) : [] };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict('another software house has that dojoSoftwareHouseId');
      throw err;
    }
    for (const loc of out.bumped) await this.d.publisher.publishChanged(loc.id, loc.configVersion);
    return toSoftwareHouseView(out.row);
  }
}
