const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `s` is a UUID, in either case. Ids that come from outside (a route, a POS, an operator) are checked with it
 * before they reach a `::uuid` cast, which would otherwise fail the statement (another id is simply not found).
 */
export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}
