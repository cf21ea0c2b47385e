/** Raw json columns may come back as text or parsed, depending on the driver. */
export function jsonValue<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** A BigInt (a bigint id column's value) as JSON: a number. */
const bigintAsNumber = (_k: string, v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

/**
 * BigInt-safe JSON text (for a jsonb parameter). Plain JSON.stringify first, the BigInt replacer only when that
 * throws a TypeError (a BigInt; a cycle throws again there): a replacer function takes V8's slower path for every
 * value, about twice the time a call, and every change writes a few of these.
 */
export function jsonText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    text = JSON.stringify(value, bigintAsNumber);
  }
  return text ?? 'null';
}
