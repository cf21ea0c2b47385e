import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, CONFIG, PRISMA, SecretTokens } from '@app/common';
import type { AdminConfig } from '@app/config';
import type { PrismaClient } from '@app/db';
import { AuthenticateVenueToken, rawOnPg, VenueTokensRepository } from '@app/domain/admin';
import type { VenueAuth } from './tokens';

const bearer = (req: Request): string | undefined => bearerToken(req.headers.authorization);

/** Operator API: `Authorization: Bearer <one of ADMIN_OPERATOR_TOKENS>`, compared in constant time. */
@Injectable()
export class OperatorGuard implements CanActivate {
  private readonly operators: SecretTokens;

  constructor(@Inject(CONFIG) config: AdminConfig) {
    this.operators = new SecretTokens(config.ADMIN_OPERATOR_TOKENS);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const token = bearer(ctx.switchToHttp().getRequest<Request>());
    if (!token) throw new UnauthorizedException('an operator bearer token is required');
    if (!this.accepts(token)) throw new UnauthorizedException('the operator token is not valid');
    return true;
  }

  /** True when `token` is one of ADMIN_OPERATOR_TOKENS (also used by the console's WebSocket). */
  accepts(token: string): boolean {
    return this.operators.accepts(token);
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
    // Every venue request looks its token up: on pg directly, without Prisma's runtime (rawOnPg).
    this.auth = new AuthenticateVenueToken(new VenueTokensRepository(rawOnPg(prisma)));
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

  /**
   * Whether the token a long-lived response (the terminal-events stream) was opened with still holds: not revoked
   * since, and still the same location's. A revoked token must not keep a live view of the venue's transactions.
   */
  async stillAuthorized(req: Request & { venue?: VenueAuth }): Promise<boolean> {
    const token = bearer(req);
    const who = token ? await this.auth.execute(token) : undefined;
    return who !== undefined && who.tokenId === req.venue?.tokenId && who.locationId === req.params.locationId;
  }
}
