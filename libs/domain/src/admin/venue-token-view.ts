import { createHash } from 'node:crypto';
import type { VenueTokenRow } from '../repositories/venue-tokens.repository';

/** A venue token as the admin API shows it (never the token or its hash). */
export interface VenueTokenView {
  id: string;
  locationId: string;
  name: string;
  last4: string;
  createdAt: string;
  revokedAt: string | null;
}


export const toVenueTokenView = (r: VenueTokenRow): VenueTokenView => ({
  id: r.id,
  locationId: r.locationId,
  name: r.name,
  last4: r.last4,
  createdAt: r.createdAt.toISOString(),
  revokedAt: r.revokedAt?.toISOString() ?? null,
});

/** Venue tokens are stored as SHA-256 hex digests only. */
export function hashVenueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
