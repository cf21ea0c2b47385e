import { randomBytes } from 'node:crypto';
import type { AdminDeps } from '../ports';
import { requireLocation } from '../location-view';
import type { VenueTokenView } from '../venue-token-view';
import { hashVenueToken, toVenueTokenView } from '../venue-token-view';

/** Issues a venue API token for one location; the token is returned once and never stored. */
export class IssueVenueToken {
  constructor(private readonly d: Pick<AdminDeps, 'locations' | 'venueTokens'>) {}
  async execute(locationId: string, name: string): Promise<VenueTokenView & { token: string }> {
    await requireLocation(this.d, locationId);
    const token = `vt_${randomBytes(32).toString('base64url')}`;
    const row = await this.d.venueTokens.create(locationId, { name, tokenHash: hashVenueToken(token), last4: token.slice(-4) });
    return { ...toVenueTokenView(row), token };
  }
}
