import type { OrderWithRelations } from './order-mapper';

/**
 * What a row holds that the venue's write does not set: kept by the server (its sequence, origin and Dojo's id, the
 * amounts and payability that follow from the payments, its version and times, the payments themselves).
 */
const SERVER_KEPT = new Set<string>(['seq', 'origin', 'dojoOrderId', 'paidAmount', 'tipsAmount', 'payable', 'version', 'createdAt', 'updatedAt', 'payments', 'sessionId']);
/** Timestamps stored to the millisecond: compared as instants, whether a Date or an ISO string. */
const INSTANTS = new Set<string>(['readyAt', 'collectAt']);

/**
 * Whether the stored order already holds what a venue's write would write (`proposed`: OrdersRepository's row of the
 * write, orderRowOf): every field the write sets, and every item, in order. A conditional PUT retried after its answer
 * was lost finds the order at the version it wrote, not the one it names: RFC 9110 §13.1.1 lets the server answer that
 * a change already made succeeded rather than 412. Errs on "not the same": a difference in any field (or a value the
 * store would keep otherwise, such as a time finer than a millisecond) keeps the 412.
 */
export function holdsVenueContent(stored: OrderWithRelations, proposed: OrderWithRelations): boolean {
  // Items are compared in their array order: both sides list them by position (ORDER_JSON_SQL, orderRowOf).
  return canonical(venueFields(stored)) === canonical(venueFields(proposed));
}

function venueFields(o: OrderWithRelations): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (SERVER_KEPT.has(k)) continue;
    // A row reads null where a write left a field out.
    out[k] = v === null || v === undefined ? null : INSTANTS.has(k) ? new Date(v as string | Date).getTime() : v;
  }
  return out;
}

/**
 * JSON with object keys sorted at every depth (jsonb keeps its own key order), BigInts and Dates as strings. Inside a
 * JSON field a key that is absent and one that is null stay different (jsonb keeps the null): "not the same" is the safe
 * side.
 */
function canonical(value: unknown): string {
  return JSON.stringify(sorted(value));
}

function sorted(v: unknown): unknown {
  if (v === null) return null;
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(sorted);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sorted(x);
    }
    return out;
  }
  return v;
}
