import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { unknownQueryParameters } from './validation';

/** Where @nestjs/swagger's @ApiQuery keeps a handler's parameters (its API_PARAMETERS, not exported by the package). */
const API_PARAMETERS = 'swagger/apiParameters';

/**
 * Refuses, on every route of the operator (/v1) and venue (/venue/v1) APIs,
 * query parameters the route does not document with @ApiQuery: a 400 naming
 * them. The documented parameters are the accepted ones, so the OpenAPI
 * document and the behaviour cannot drift apart. Runs after the guards, so an
 * unauthenticated call still gets its 401 first.
 */
/** A route handler as Nest hands it over. */
type Handler = ReturnType<ExecutionContext['getHandler']>;

@Injectable()
export class KnownQueryInterceptor implements NestInterceptor {
  private readonly allowed = new Map<Handler, string[]>();

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const path = String(Reflect.getMetadata(PATH_METADATA, ctx.getClass()) ?? '').replace(/^\//, '');
    if (!/^(v1|venue\/v1)(\/|$)/.test(path)) return next.handle();
    const req = ctx.switchToHttp().getRequest<Request>();
    const given = Object.keys(req.query ?? {});
    if (given.length === 0) return next.handle();
    const allowed = this.allowedFor(ctx.getHandler());
    const unknown = given.filter((k) => !allowed.includes(k));
    if (unknown.length) throw unknownQueryParameters(unknown, allowed);
    return next.handle();
  }

  private allowedFor(handler: Handler): string[] {
    let names = this.allowed.get(handler);
    if (!names) {
      const params = (Reflect.getMetadata(API_PARAMETERS, handler) ?? []) as { in?: string; name?: string }[];
      names = params.filter((p) => p.in === 'query' && p.name).map((p) => p.name!);
      this.allowed.set(handler, names);
    }
    return names;
  }
}
