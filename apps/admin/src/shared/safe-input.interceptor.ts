import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { DomainError } from '@app/domain/admin';
import { findUnsafeValue } from '@app/domain';

/**
 * Refuses, on every route, input Postgres cannot store or JSON nested too
 * deeply: NUL characters (\u0000) and lone UTF-16 surrogates in any string or
 * key of the body, the query or the path, with a 400 naming the field. Without
 * it such a string reaches a text or JSON column and fails there as a 500.
 */
@Injectable()
export class SafeInputInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request>();
    const unsafe = findUnsafeValue(req.params ?? {}) ?? findUnsafeValue(req.query ?? {}) ?? (req.body === undefined ? undefined : findUnsafeValue(req.body));
    if (unsafe) throw DomainError.invalid([unsafe]);
    return next.handle();
  }
}
