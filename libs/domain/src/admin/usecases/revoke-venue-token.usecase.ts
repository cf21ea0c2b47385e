import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { VenueTokenView } from '../venue-token-view';
import { toVenueTokenView } from '../venue-token-view';

/** Revokes a venue token (revoking it again changes nothing); answers the token as it now is. */
export class RevokeVenueToken {
  constructor(private readonly d: Pick<AdminDeps, 'venueTokens'>) {}
  async execute(locationId: string, tokenId: string): Promise<VenueTokenView> {
    await this.d.venueTokens.revoke(locationId, tokenId, new Date());
    const row = await this.d.venueTokens.get(locationId, tokenId);
    if (!row) throw DomainError.notFound('venue token', tokenId);
    return toVenueTokenView(row);
  }
}
