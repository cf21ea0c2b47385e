import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import { registersCapabilities } from '../location-rules';

/** Registers the location's current capability set with Dojo again, now. */
export class ResyncCapabilities {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<LocationView> {
    const cur = await this.d.locations.get(id);
    if (!cur) throw DomainError.notFound('location', id);
    if (!registersCapabilities(cur.protocol)) {
      throw DomainError.invalid([{ field: 'protocol', reason: `capability registration applies to epos-data only; this location speaks ${cur.protocol}` }]);
    }
    const row = await this.d.locations.update(id, { registrationState: 'pending', registrationError: null, registrationAttempts: 0 });
    if (!row) throw DomainError.notFound('location', id);
    await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }
}
