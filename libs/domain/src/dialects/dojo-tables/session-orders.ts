import { ordersRepo } from '../../repositories/orders.repository';
import type { Tx } from '../../shared/tx';

/** Most session ids remembered per process (about 200 bytes each). */
const MAX_REMEMBERED = 50_000;

/**
 * The order a Tables API session id names, remembered per process. A session id is a pure function of the
 * location and the order id (core/rules tableSessionId: a hash, so only a lookup can reverse it), so a remembered
 * pair can never turn wrong: whether the order still exists, and in what state, is the use-case's own read to
 * tell. What it saves is the lookup, a round trip of its own before the method's statements: a card machine
 * names the same session in GetBillItems, LockSession, RecordPayment and UnlockSession, usually right after a
 * list answered with it. Unknown ids are not remembered (the next request looks again). Keys carry the location:
 * one venue's session ids never resolve another's orders. Oldest entries go first past MAX_REMEMBERED.
 */
export class SessionOrders {
  private readonly known = new Map<string, string>();

  constructor(private readonly max: number) {}

  private static key(locationId: string, sessionId: string): string {
    return `${locationId}|${sessionId.toLowerCase()}`;
  }

  /** The order id `sessionId` names at the location, or null when no order there has that session id. */
  async orderIdOf(db: Tx, locationId: string, sessionId: string): Promise<string | null> {
    const key = SessionOrders.key(locationId, sessionId);
    const known = this.known.get(key);
    if (known !== undefined) return known;
    const orderId = await ordersRepo(db).orderIdOfSession(locationId, sessionId);
    if (orderId !== null) this.put(key, orderId);
    return orderId;
  }

  /**
   * The orders `sessionIds` name at the location (ids that name none are left out): those remembered from memory,
   * the rest in one statement (a ListBillItems may name 500), remembered from then on.
   */
  async orderIdsOf(db: Tx, locationId: string, sessionIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    const unknown: string[] = [];
    for (const sessionId of sessionIds) {
      const known = this.known.get(SessionOrders.key(locationId, sessionId));
      if (known !== undefined) found.push(known);
      else unknown.push(sessionId);
    }
    if (unknown.length === 0) return found;
    for (const [sessionId, orderId] of await ordersRepo(db).orderIdsOfSessions(locationId, unknown)) {
      this.put(SessionOrders.key(locationId, sessionId), orderId);
      found.push(orderId);
    }
    return found;
  }

  /**
   * Remembers the sessions an answer lists (the ids the card machine will send next), with the session ids the
   * answer already computed (core/rules tableSessionId, in the wire mapping).
   */
  learn(sessions: readonly { locationId: string; sessionId: string; orderId: string }[]): void {
    for (const s of sessions) this.put(SessionOrders.key(s.locationId, s.sessionId), s.orderId);
  }

  private put(key: string, orderId: string): void {
    if (this.known.has(key)) return;
    if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value!);
    this.known.set(key, orderId);
  }
}

export const sessionOrders = new SessionOrders(MAX_REMEMBERED);
