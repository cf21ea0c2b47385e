import { contractValidator } from '@app/contracts';
import { DomainError, FieldError } from '../admin/errors';

/** Validates `value` against a schema of Dojo's contract; throws a field-level DomainError when it does not fit. */
export function requireSchema(schema: string, value: unknown, prefix = ''): void {
  const r = contractValidator().validateSchema(schema, value);
  if (!r.ok) throw DomainError.invalid([{ field: prefix ? `${prefix}${r.field === '(root)' ? '' : '.' + r.field}` : r.field, reason: r.reason }]);
}

/** The id in the body, when given, must be the one in the path; returns the body with the id set. */
export function withPathId<T extends { id?: unknown }>(body: T, id: string): T & { id: string } {
  if (body.id !== undefined && body.id !== id) throw DomainError.invalid([{ field: 'id', reason: `must equal the id in the path (${id})` }]);
  return { ...body, id };
}

/**
 * The venue API's checks on a create-or-replace body, in order: a usable id in
 * the path, a JSON object whose id (if any) is that one, and a fit with the
 * contract schema. Returns the body, with the id set, as that schema's type.
 */
export function requireVenueEntity<T>(schema: string, what: string, id: string, body: unknown): T {
  requireEntityId(id, what);
  const value = withPathId(requireObject(body), id);
  requireSchema(schema, value);
  return value as unknown as T;
}

export function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw DomainError.invalid([{ field: '(root)', reason: 'must be a JSON object' }]);
  return body as Record<string, unknown>;
}

export function check(fields: FieldError[], cond: boolean, field: string, reason: string): void {
  if (!cond) fields.push({ field, reason });
}

/** An entity id as the venue API accepts it in a path. */
export function requireEntityId(id: string, what: string): void {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) throw DomainError.invalid([{ field: `${what}Id`, reason: 'must be 1-128 characters of letters, digits, _ . : -' }]);
}
