/** A value Postgres cannot store, or JSON too deep to handle, and where it is. */
export interface UnsafeValue {
  /** Dotted path of the field ('(root)' for the value itself). */
  field: string;
  reason: string;
}

/** Deepest nesting of arrays and objects accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored as text (Postgres refuses NUL; a lone UTF-16 surrogate is not Unicode), or undefined. */
export function unsafeStringReason(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

/**
 * The first string (value or object key) in a parsed JSON value that cannot be
 * stored, or the first place nested deeper than `maxDepth`. Iterative, so a
 * hostile nesting depth cannot overflow the stack.
 */
export function findUnsafeValue(value: unknown, maxDepth = MAX_JSON_DEPTH, root = ''): UnsafeValue | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  const name = (path: string) => path || '(root)';
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const reason = unsafeStringReason(v);
      if (reason) return { field: name(path), reason };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return { field: name(path), reason: `is nested more than ${maxDepth} levels deep` };
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      const p = path ? `${path}.${k}` : k;
      if (!Array.isArray(v)) {
        const reason = unsafeStringReason(k);
        if (reason) return { field: name(path), reason: `keys ${reason}` };
      }
      stack.push({ v: x, path: p, depth: depth + 1 });
    }
  }
  return undefined;
}
