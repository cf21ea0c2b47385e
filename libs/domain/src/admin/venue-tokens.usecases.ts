import { createHash, randomBytes } from 'node:crypto';
import { DomainError } from './errors';
import type { AdminDeps } from './ports';
import type { PrismaClient } from '@app/db';

export interface VenueTokenView {
  id: string;
  locationId: string;
  name: string;
  last4: string;
  createdAt: string;
  revokedAt: string | null;
}

type Row = { id: string; locationId: string; name: string; last4: string; createdAt: Date; revokedAt: Date | null };
const view = (r: Row): VenueTokenView => ({
  id: r.id,
  locationId: r.locationId,
  name: r.name,
  last4: r.last4,
  createdAt: r.createdAt.toISOString(),
  revokedAt: r.revokedAt?.toISOString() ?? null,
});
const SELECT = { id: true, locationId: true, name: true, last4: true, createdAt: true, revokedAt: true } as const;

/** Venue tokens are stored as SHA-256 hex digests only. */
export function hashVenueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Issues a venue API token for one location; the token is returned once and never stored. */
export class IssueVenueToken {
  constructor(private readonly d: Pick<AdminDeps, 'prisma'>) {}
  async execute(locationId: string, name: string): Promise<VenueTokenView & { token: string }> {
    const loc = await this.d.prisma.location.findUnique({ where: { id: locationId }, select: { id: true } });
    if (!loc) throw DomainError.notFound('location', locationId);
    const token = `vt_${randomBytes(32).toString('base64url')}`;
    const row = await this.d.prisma.venueToken.create({
      data: { locationId, name, tokenHash: hashVenueToken(token), last4: token.slice(-4) },
      select: SELECT,
    });
    return { ...view(row), token };
  }
}

export class ListVenueTokens {
  constructor(private readonly d: Pick<AdminDeps, 'prisma'>) {}
  async execute(locationId: string): Promise<VenueTokenView[]> {
    const loc = await this.d.prisma.location.findUnique({ where: { id: locationId }, select: { id: true } });
    if (!loc) throw DomainError.notFound('location', locationId);
    return (await this.d.prisma.venueToken.findMany({ where: { locationId }, orderBy: { createdAt: 'asc' }, select: SELECT })).map(view);
  }
}

export class RevokeVenueToken {
  constructor(private readonly d: Pick<AdminDeps, 'prisma'>) {}
  async execute(locationId: string, tokenId: string): Promise<VenueTokenView> {
    const { count } = await this.d.prisma.venueToken.updateMany({ where: { id: tokenId, locationId, revokedAt: null }, data: { revokedAt: new Date() } });
    const row = await this.d.prisma.venueToken.findFirst({ where: { id: tokenId, locationId }, select: SELECT });
    if (!row) throw DomainError.notFound('venue token', tokenId);
    void count;
    return view(row);
  }
}

/**
 * Resolves a presented venue token to its location, or undefined (unknown or
 * revoked). A disabled location's venue keeps its data in sync: disabling is
 * about Dojo's connection, not the POS.
 */
export class AuthenticateVenueToken {
  constructor(private readonly prisma: PrismaClient) {}
  async execute(token: string): Promise<{ locationId: string; tokenId: string } | undefined> {
    const row = await this.prisma.venueToken.findUnique({
      where: { tokenHash: hashVenueToken(token) },
      select: { id: true, locationId: true, revokedAt: true },
    });
    if (!row || row.revokedAt) return undefined;
    return { locationId: row.locationId, tokenId: row.id };
  }
}
