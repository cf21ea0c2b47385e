import type { AdminDeps } from '../ports';
import type { LocationView } from '../location-view';
import { UpdateLocation } from './update-location.usecase';

/** Enables or disables a location; the gateways hear of it at once. */
export class SetLocationEnabled {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, enabled: boolean): Promise<LocationView> {
    return new UpdateLocation(this.d).execute(id, { enabled });
  }
}
