import { z } from 'zod';
import { DomainError } from '@app/domain/admin';

/** Parses `value` with a zod schema; throws a 400 with one entry per offending field. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  throw DomainError.invalid(
    r.error.issues.map((i) => ({ field: i.path.length ? i.path.join('.') : '(root)', reason: i.message })),
  );
}

/**
 * Parses a query string with an object schema. Parameters the schema does not
 * name are refused (a 400 naming each), never silently ignored: a mistyped
 * filter would otherwise return everything.
 */
export function parseQuery<S extends z.ZodObject>(schema: S, query: unknown): z.infer<S> {
  const q = (query ?? {}) as Record<string, unknown>;
  const allowed = Object.keys(schema.shape);
  const unknown = Object.keys(q).filter((k) => !allowed.includes(k));
  if (unknown.length) throw unknownQueryParameters(unknown, allowed);
  return parseBody(schema, q);
}

/** The 400 for query parameters a route does not take: one field error per parameter, with the allowed ones. */
export function unknownQueryParameters(unknown: string[], allowed: string[]): DomainError {
  const reason = `unknown query parameter; ${allowed.length ? `allowed: ${allowed.join(', ')}` : 'this route takes none'}`;
  return DomainError.invalid(
    unknown.map((field) => ({ field, reason })),
    `unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
  );
}

/**
 * The If-Match header of a conditional write: `"<version>"` (the ETag a read or write of the entity answered; the
 * quotes may be left out) writes only over that version, `*` only over an entity that exists. Absent: undefined.
 * Anything else (a list, a weak tag) is a 400.
 */
export function parseIfMatch(header: string | undefined): { version: number } | 'exists' | undefined {
  if (header === undefined) return undefined;
  const v = header.trim();
  if (v === '*') return 'exists';
  const m = /^"?([1-9]\d{0,9})"?$/.exec(v);
  if (m && Number(m[1]) <= 2 ** 31 - 1) return { version: Number(m[1]) };
  throw DomainError.invalid([{ field: 'If-Match', reason: 'must be the ETag of the version the write replaces ("5", as GET and PUT answer it) or *' }]);
}

/** An entity's version as its ETag (strong; the If-Match of a conditional write names it). */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** A string enum whose error lists the allowed values. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of: ${values.join(', ')}` });
}

/** JSON schema of a zod schema, for @ApiBody / @ApiResponse. */
export function jsonSchema(schema: z.ZodType): Record<string, any> {
  const s = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, any>;
  delete s.$schema;
  return s;
}
