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

/** JSON schema of a zod schema, for @ApiBody / @ApiResponse. */
export function jsonSchema(schema: z.ZodType): Record<string, any> {
  const s = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, any>;
  delete s.$schema;
  return s;
}
