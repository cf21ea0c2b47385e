import { z } from 'zod';
import { parseRedisUrl } from './redis-url';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates environment variables against a zod object whose keys are the
 * variable names. Every problem names its variable; nothing else in the code
 * reads process.env.
 */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const v = env[key];
    input[key] = v === '' ? undefined : v;
  }
  const parsed = z.object(shape).safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const name = String(i.path[0] ?? '(env)');
    return input[name] === undefined ? `${name} is required (${i.message})` : `${name} is malformed: ${i.message}`;
  });
  throw new ConfigError(problems);
}

/** Whether `v` is a calendar date as YYYY-MM-DD (OpenAPI's `format: date`), such as Dojo's API `version` header. */
export function isCalendarDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** Helpers for env values (all strings). */
export const env = {
  url: (protocols: string[]) =>
    z.string().refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(':', ''));
      } catch {
        return false;
      }
    }, `must be a URL with scheme ${protocols.join(' or ')}`),
  /** REDIS_URL: one Redis, a Redis Cluster or Sentinels (the forms in redis-url.ts). */
  redisUrl: () =>
    z.string().superRefine((v, ctx) => {
      try {
        parseRedisUrl(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      .optional()
      .transform((v) => v ?? def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
      .optional()
      .transform((v) => (v === undefined ? def : v === 'true' || v === '1')),
  str: (def?: string) => (def === undefined ? z.string().min(1) : z.string().optional().transform((v) => v ?? def)),
  /** A calendar date as YYYY-MM-DD (e.g. Dojo's API `version` header), `def` when unset. */
  date: (def: string) =>
    z
      .string()
      .optional()
      .transform((v) => v ?? def)
      .refine(isCalendarDate, 'must be a date as YYYY-MM-DD, e.g. 2026-02-27'),
  list: () =>
    z
      .string()
      .optional()
      .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
  key32: () =>
    z.string().refine((v) => /^[0-9a-fA-F]{64}$/.test(v) || /^[A-Za-z0-9+/]{43}=$/.test(v), 'must be 32 bytes as 64 hex or 44 base64 characters'),
};
