import type { AdminDeps } from '../ports';
import { requireLocation } from '../location-view';
import type { VenueTokenView } from '../venue-token-view';
import { toVenueTokenView } from '../venue-token-view';

/** A location's venue tokens, oldest first (never the tokens themselves). */
export class ListVenueTokens {
  constructor(private readonly d: Pick<AdminDeps, 'locations' | 'venueTokens'>) {}
  async execute(locationId: string): Promise<VenueTokenView[]> {
    await requireLocation(this.d, locationId);
    return (await this.d.venueTokens.list(locationId)).map(toVenueTokenView);
  }
}
