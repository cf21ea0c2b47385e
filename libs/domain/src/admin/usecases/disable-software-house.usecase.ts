import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import { SetLocationEnabled } from './set-location-enabled.usecase';

/** Disables every location of a software house (each one reaches the gateways at once). */
export class DisableSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string): Promise<{ disabledLocations: number }> {
    if (!(await this.d.softwareHouses.exists(id))) throw DomainError.notFound('software house', id);
    const locs = await this.d.locations.enabledIdsOfSoftwareHouse(id);
    const setEnabled = new SetLocationEnabled(this.d);
    for (const l of locs) await setEnabled.execute(l, false);
    return { disabledLocations: locs.length };
  }
}
