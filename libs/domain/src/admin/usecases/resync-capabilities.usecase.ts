import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import { registersCapabilities } from '../location-rules';

/** Registers the location's current capability set with Dojo again, now. */
export class ResyncCapabilities {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<LocationView> {
    // Under the row lock, as a protocol switch takes it: a switch away from epos-data either waits for this (and then
    // marks the registration not required) or comes first (and this is refused), never leaves another protocol pending.
    const row = await this.d.locations.transaction(async (locations) => {
      const cur = await locations.getForChange(id);
      if (!cur) throw DomainError.notFound('location', id);
      if (!registersCapabilities(cur.protocol)) {
        throw DomainError.invalid([{ field: 'protocol', reason: `capability registration applies to epos-data only; this location speaks ${cur.protocol}` }]);
      }
      const updated = await locations.update(id, { registrationState: 'pending', registrationError: null, registrationAttempts: 0 });
      if (!updated) throw DomainError.notFound('location', id);
      return updated;
    });
    await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }
}
