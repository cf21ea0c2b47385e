import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { CONFIG, PRISMA } from '@app/common';
import type { AdminConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { AuthenticateVenueToken, VenueTokensRepository } from '@app/domain/admin';
import type { VenueAuth } from './tokens';

function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Operator API: `Authorization: Bearer <one of ADMIN_OPERATOR_TOKENS>`, compared in constant time. */
@Injectable()
export class OperatorGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(CONFIG) config: AdminConfig) {
    this.digests = config.ADMIN_OPERATOR_TOKENS.map(digest);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const token = bearer(ctx.switchToHttp().getRequest<Request>());
    if (!token) throw new UnauthorizedException('an operator bearer token is required');
    if (!this.accepts(token)) throw new UnauthorizedException('the operator token is not valid');
    return true;
  }

  /** True when `token` is one of ADMIN_OPERATOR_TOKENS (also used by the console's WebSocket). */
  accepts(token: string): boolean {
    // Digests have equal length, so timingSafeEqual applies; every configured token is compared.
    const presented = digest(token);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
    return ok;
  }
}

/**
 * Venue API: `Authorization: Bearer <venue token>`; the token belongs to one
 * location and may only touch routes under that location's id.
 */
@Injectable()
export class VenueGuard implements CanActivate {
  private readonly auth: AuthenticateVenueToken;

  constructor(@Inject(PRISMA) prisma: PrismaClient) {
    this.auth = new AuthenticateVenueToken(new VenueTokensRepository(prisma));
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request & { venue?: VenueAuth }>();
    const token = bearer(req);
    if (!token) throw new UnauthorizedException('a venue bearer token is required');
    const who = await this.auth.execute(token);
    if (!who) throw new UnauthorizedException('the venue token is not valid');
    if (req.params.locationId !== who.locationId) throw new ForbiddenException('this token belongs to another venue');
    req.venue = who;
    return true;
  }
}
