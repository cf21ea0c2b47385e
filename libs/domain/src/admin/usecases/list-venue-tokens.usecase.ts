import type { AdminDeps } from '../ports';
import { requireLocation } from '../location-view';
import type { VenueTokenView } from '../venue-token-view';
import { toVenueTokenView, VENUE_TOKEN_SELECT } from '../venue-token-view';

/** A location's venue tokens, oldest first (never the tokens themselves). */
export class ListVenueTokens {
  constructor(private readonly d: Pick<AdminDeps, 'prisma'>) {}
  async execute(locationId: string): Promise<VenueTokenView[]> {
    await requireLocation(this.d, locationId);
    return (await this.d.prisma.venueToken.findMany({ where: { locationId }, orderBy: { createdAt: 'asc' }, select: VENUE_TOKEN_SELECT })).map(toVenueTokenView);
  }
}
