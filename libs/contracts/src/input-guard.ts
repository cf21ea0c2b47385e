import type { ValidationResult } from './validator';

/**
 * Limits on the values of an incoming request, on top of its schema: what the
 * contract allows but the platform cannot store or process (Postgres refuses
 * NUL in text and lone UTF-16 surrogates; btree index entries are limited to
 * about 2.7 kB; integers beyond 2^53 lose precision in JavaScript and beyond
 * int64 overflow BIGINT; very deep nesting overflows recursive code such as
 * JSON.stringify). Refused at the edge as InvalidRequest naming the field.
 */
export interface InputLimits {
  /** Nesting of objects and arrays below the checked value. */
  maxDepth: number;
  /** Identifiers: fields named id, *Id, items of *Ids, and object keys. */
  maxIdLength: number;
  /** Any other string. */
  maxStringLength: number;
  /** Objects, arrays and values in all. */
  maxNodes: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxDepth: 32,
  maxIdLength: 256,
  maxStringLength: 16_384,
  maxNodes: 50_000,
};

const idLike = (key: string) => key === 'id' || key === 'cursor' || key === 'before' || key === 'after' || /(Id|Ids)$/.test(key);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be accepted, or undefined. */
export function badString(s: string, maxLength: number): string | undefined {
  if (s.length > maxLength) return `is ${s.length} characters long; at most ${maxLength} are accepted`;
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (LONE_SURROGATE.test(s)) return 'must not contain unpaired UTF-16 surrogates (such as a lone \\ud800)';
  return undefined;
}

/** The field path of `key` under `path`; an empty `path` (a body checked from its root) adds no leading dot. */
function fieldOf(path: string, key: string | number): string {
  const under = (k: string | number) => (path ? `${path}.${k}` : String(k));
  if (typeof key === 'number') return under(key);
  // NUL is matched on purpose: it is one of the characters this guard refuses and must not echo back.
  // eslint-disable-next-line no-control-regex
  const safe = /^[A-Za-z0-9_$-]{1,64}$/.test(key) ? key : JSON.stringify(key.slice(0, 32).replace(/[\u0000\ud800-\udfff]/g, '?'));
  return under(safe);
}

/**
 * Checks every value under `value` (iteratively: no recursion however deep it
 * is). `path` names the value in messages, e.g. "params"; with "" the fields are
 * named from the value's root (e.g. "details.dineIn.waiterId"), and a problem
 * with the value as a whole is reported on the field "".
 */
export function checkInputValues(value: unknown, path: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): ValidationResult {
  const stack: { v: unknown; path: string; depth: number; key: string }[] = [{ v: value, path, depth: 0, key: path }];
  let nodes = 0;
  while (stack.length > 0) {
    const { v, path: p, depth, key } = stack.pop()!;
    if (++nodes > limits.maxNodes) return { ok: false, field: path, reason: `has more than ${limits.maxNodes} values` };
    if (typeof v === 'string') {
      const why = badString(v, idLike(key) ? limits.maxIdLength : limits.maxStringLength);
      if (why) return { ok: false, field: p, reason: why };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { ok: false, field: p, reason: 'must be a finite number' };
      if (Math.abs(v) > Number.MAX_SAFE_INTEGER) return { ok: false, field: p, reason: `is out of range (at most ±${Number.MAX_SAFE_INTEGER})` };
    } else if (v !== null && typeof v === 'object') {
      if (depth >= limits.maxDepth) return { ok: false, field: p, reason: `is nested more than ${limits.maxDepth} levels deep` };
      if (Array.isArray(v)) {
        // Items of an *Ids array are identifiers too.
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: fieldOf(p, i), depth: depth + 1, key });
      } else {
        const entries = Object.entries(v as Record<string, unknown>);
        for (let i = entries.length - 1; i >= 0; i--) {
          const [k, child] = entries[i]!;
          const why = badString(k, limits.maxIdLength);
          if (why) return { ok: false, field: fieldOf(p, k), reason: `(a property name) ${why}` };
          stack.push({ v: child, path: fieldOf(p, k), depth: depth + 1, key: k });
        }
      }
    }
  }
  return { ok: true };
}
