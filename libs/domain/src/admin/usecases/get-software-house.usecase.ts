import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { SoftwareHouseView} from '../software-house-view';
import { toSoftwareHouseView } from '../software-house-view';

/** One software house with its location count. */
export class GetSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string): Promise<SoftwareHouseView> {
    const r = await this.d.softwareHouses.getWithCount(id);
    if (!r) throw DomainError.notFound('software house', id);
    return toSoftwareHouseView(r);
  }
}
