import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { VenueTokenView } from '../venue-token-view';
import { toVenueTokenView, VENUE_TOKEN_SELECT } from '../venue-token-view';

/** Revokes a venue token (revoking it again changes nothing); answers the token as it now is. */
export class RevokeVenueToken {
  constructor(private readonly d: Pick<AdminDeps, 'prisma'>) {}
  async execute(locationId: string, tokenId: string): Promise<VenueTokenView> {
    const { count } = await this.d.prisma.venueToken.updateMany({ where: { id: tokenId, locationId, revokedAt: null }, data: { revokedAt: new Date() } });
    const row = await this.d.prisma.venueToken.findFirst({ where: { id: tokenId, locationId }, select: VENUE_TOKEN_SELECT });
    if (!row) throw DomainError.notFound('venue token', tokenId);
    void count;
    return toVenueTokenView(row);
  }
}
