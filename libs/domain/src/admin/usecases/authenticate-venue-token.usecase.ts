import type { VenueTokensRepository } from '../../repositories/venue-tokens.repository';
import { hashVenueToken } from '../venue-token-view';

/**
 * Resolves a presented venue token to its location, or undefined (unknown or
 * revoked). A disabled location's venue keeps its data in sync: disabling is
 * about Dojo's connection, not the POS.
 */
export class AuthenticateVenueToken {
  constructor(private readonly venueTokens: VenueTokensRepository) {}
  async execute(token: string): Promise<{ locationId: string; tokenId: string } | undefined> {
    const row = await this.venueTokens.findByHash(hashVenueToken(token));
    if (!row || row.revokedAt) return undefined;
    return { locationId: row.locationId, tokenId: row.id };
  }
}
