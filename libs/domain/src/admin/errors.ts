import { ConstraintViolation } from '../repositories/constraint-violation';

/** A venue write that waited past VENUE_WAIT_BOUND_MS for a row another transaction held: the transport answers 503 busy. */
export { WaitTimedOut } from '../repositories/constraint-violation';

/**
 * What the request needs of Redis (the gateways' channel, their request records) could not be had: Redis did not
 * answer. The transport answers 503 `redis_unavailable` with Retry-After; the request may be sent again. `message`
 * says what could not be done, never the Redis error (logged).
 */
export class RedisUnavailable extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'RedisUnavailable';
  }
}

/** A field-level problem with input. */
export interface FieldError {
  field: string;
  reason: string;
}

/**
 * `unprocessable`: the request is well formed but cannot be taken as it stands (an idempotency key reused for another
 * request): 422. `gone`: what the request points at was deleted by retention (a feed cursor too old): 410.
 * `precondition_failed`: the write was conditional (If-Match) and the condition no longer holds: 412.
 */
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict' | 'locked' | 'forbidden' | 'unprocessable' | 'gone' | 'precondition_failed';

/**
 * An error a use-case of the admin or venue API raises for the caller to see.
 * The transport maps `kind` to an HTTP status (400, 404, 409, 409, 403, 422, 410, 412).
 */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly fields: FieldError[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static invalid(fields: FieldError[], message = 'the request is invalid'): DomainError {
    return new DomainError('invalid', message, fields);
  }
  static notFound(what: string, id: string): DomainError {
    return new DomainError('not_found', `${what} ${JSON.stringify(id)} was not found`);
  }
  static conflict(message: string, details: Record<string, unknown> = {}): DomainError {
    return new DomainError('conflict', message, [], details);
  }
}

/** True when a repository write was refused by a unique constraint (repositories/constraint-violation.ts). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof ConstraintViolation && err.kind === 'unique';
}

/** True when a repository write was refused by a foreign-key constraint. */
export function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof ConstraintViolation && err.kind === 'foreign_key';
}
