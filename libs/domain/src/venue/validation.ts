import type { InputLimits } from '@app/contracts';
import { checkInputValues, contractValidator, DEFAULT_INPUT_LIMITS } from '@app/contracts';
import type { FieldError } from '../admin/errors';
import { DomainError } from '../admin/errors';

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

/**
 * The body as a JSON object, within the limits the JSON-RPC edge sets on every
 * request (@app/contracts checkInputValues): ids (id, *Id, items of *Ids) of at
 * most 256 characters, other strings of at most 16,384, at most 50,000 values.
 * A longer id would otherwise reach a btree or GIN index (an order's waiterId,
 * a table's areaId or waiterIds, ...), whose entries are limited to about
 * 2.7 kB, and fail there as a 500.
 */
export function requireObject(body: unknown, limits: InputLimits = DEFAULT_INPUT_LIMITS): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw DomainError.invalid([{ field: '(root)', reason: 'must be a JSON object' }]);
  const checked = checkInputValues(body, '', limits);
  if (!checked.ok) throw DomainError.invalid([{ field: checked.field || '(root)', reason: checked.reason }]);
  return body as Record<string, unknown>;
}

export function check(fields: FieldError[], cond: boolean, field: string, reason: string): void {
  if (!cond) fields.push({ field, reason });
}

/** An entity id as the venue API accepts it in a path. */
export function requireEntityId(id: string, what: string): void {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) throw DomainError.invalid([{ field: `${what}Id`, reason: 'must be 1-128 characters of letters, digits, _ . : -' }]);
}

/** Postgres INTEGER bounds: covers, quantities and the like are stored in 32 bits. */
export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;

/** Adds a field error when `value` is given but is not an integer Postgres can store in an INTEGER column. */
export function checkInt4(fields: FieldError[], value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  check(fields, typeof value === 'number' && Number.isInteger(value) && value >= INT4_MIN && value <= INT4_MAX, field, `must be an integer from ${INT4_MIN} to ${INT4_MAX}`);
}

/** Throws the field errors checkInt4 finds for each [value, field] pair. */
export function requireInt4(pairs: [unknown, string][]): void {
  const fields: FieldError[] = [];
  for (const [v, f] of pairs) checkInt4(fields, v, f);
  if (fields.length) throw DomainError.invalid(fields);
}
