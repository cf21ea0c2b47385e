import type { Tx } from '../shared/tx';

/** A venue token row (never the token; its hash is only matched against). */
export interface VenueTokenRow {
  id: string;
  locationId: string;
  name: string;
  last4: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const VENUE_TOKEN_SELECT = { id: true, locationId: true, name: true, last4: true, createdAt: true, revokedAt: true } as const;

/** Venue API tokens: the only code that reads or writes venue_tokens. Location first, as every repository. */
export class VenueTokensRepository {
  constructor(private readonly db: Tx) {}

  async create(locationId: string, data: { name: string; tokenHash: string; last4: string }): Promise<VenueTokenRow> {
    return this.db.venueToken.create({ data: { locationId, ...data }, select: VENUE_TOKEN_SELECT });
  }

  /** The location's tokens, oldest first. */
  async list(locationId: string): Promise<VenueTokenRow[]> {
    return this.db.venueToken.findMany({ where: { locationId }, orderBy: { createdAt: 'asc' }, select: VENUE_TOKEN_SELECT });
  }

  async get(locationId: string, tokenId: string): Promise<VenueTokenRow | null> {
    return this.db.venueToken.findFirst({ where: { id: tokenId, locationId }, select: VENUE_TOKEN_SELECT });
  }

  /** Sets revoked_at unless it is set already. */
  async revoke(locationId: string, tokenId: string, at: Date): Promise<void> {
    await this.db.venueToken.updateMany({ where: { id: tokenId, locationId, revokedAt: null }, data: { revokedAt: at } });
  }

  /**
   * The token with this hash, whichever location it belongs to (the lookup that finds the location). A raw
   * statement: every venue API request makes it, and on a rawOnPg handle it goes straight to pg, without Prisma's
   * runtime.
   */
  async findByHash(tokenHash: string): Promise<{ id: string; locationId: string; revokedAt: Date | null } | null> {
    const rows = await this.db.$queryRaw<{ id: string; locationId: string; revokedAt: Date | null }[]>`
      SELECT id::text, location_id::text AS "locationId", revoked_at AS "revokedAt" FROM venue_tokens WHERE token_hash = ${tokenHash}`;
    return rows[0] ?? null;
  }
}
