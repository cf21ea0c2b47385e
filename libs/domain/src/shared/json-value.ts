/** Raw json columns may come back as text or parsed, depending on the driver. */
export function jsonValue<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
