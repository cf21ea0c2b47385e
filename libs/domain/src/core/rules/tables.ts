import { isClosedStatus } from './order-status';

/**
 * What a table is doing, from its open orders (pay at table's view of the floor):
 * - not_in_use: the venue does not seat anyone there (no covers);
 * - occupied: an open order still has something to pay;
 * - pending_available: open orders remain but all are paid (the party is leaving; the venue closes them);
 * - available: no open order.
 */
export type TableOccupancy = 'not_in_use' | 'available' | 'pending_available' | 'occupied';

export interface OrderAtTable {
  status: string;
  payable: boolean;
  totalAmount: bigint;
  paidAmount: bigint;
}

export function tableOccupancy(table: { maxCovers: number | null }, orders: readonly OrderAtTable[]): TableOccupancy {
  if (table.maxCovers === 0) return 'not_in_use';
  const open = orders.filter((o) => !isClosedStatus(o.status));
  if (open.length === 0) return 'available';
  return open.some((o) => o.paidAmount < o.totalAmount) ? 'occupied' : 'pending_available';
}

/** A table session (an order at a table, or a tab) is finished once its order is closed. */
export function isSessionFinished(order: { status: string }): boolean {
  return isClosedStatus(order.status);
}

/**
 * A waiter id that counts by its value: digits only, at most 9 (so it fits the Tables API's 32-bit integer waiter
 * ids). A POSIX pattern, so the SQL of the same rule (order-rules.sql.ts waiterAllowedSql) uses it as it is.
 */
export const NUMERIC_WAITER_ID_PATTERN = '^[0-9]{1,9}$';
const NUMERIC_WAITER_ID = new RegExp(NUMERIC_WAITER_ID_PATTERN);

/**
 * The number a waiter id written in digits is ("001" is 1), or undefined for any other id ("w-amy", "-1", longer
 * ones). The Tables API carries waiter ids as integers: this is the only form in which a venue's waiter id reaches
 * its card machines and comes back from them.
 */
export function waiterNumber(waiterId: string): number | undefined {
  return NUMERIC_WAITER_ID.test(waiterId) ? Number(waiterId) : undefined;
}

/**
 * Waiter-id enforcement of the pay-at-table dialects: when the venue enforces it, only the order's own waiter
 * may act on it; an order without a waiter is open to any waiter. Two ids are the same waiter when they are equal,
 * or both digits of the same value (waiterNumber: "001" and "1"), since the Tables API names the venue's "001" as 1.
 */
export function isWaiterAllowed(orderWaiterId: string | null, requestWaiterId: string): boolean {
  if (orderWaiterId === null || orderWaiterId === requestWaiterId) return true;
  const n = waiterNumber(orderWaiterId);
  return n !== undefined && n === waiterNumber(requestWaiterId);
}

/**
 * Why a venue whose card machines speak `protocol` may not name a table `name`, or undefined when it may. The Tables
 * API's terminals show a session as "<table name> - <session name>", so there a table's name must not contain " - "
 * (protocols.md 1.4; the Tables reply validator refuses it too). EPOS Data has no such rule (its table names are
 * only unique within an area), so other venues name tables freely.
 */
export function tableNameRefusal(name: string, protocol: string): string | undefined {
  if (protocol !== 'dojo-tables' || !name.includes(' - ')) return undefined;
  return 'must not contain " - " at a venue on the Tables API: its card machines show "<table name> - <session name>"';
}

/**
 * Why a venue may not delete a table, or undefined when it may: while open orders (status not closed) name it. An
 * order at a table the venue no longer has would show at no table on the card machines and could not be moved or
 * reopened there; the POS closes those orders, or moves them to another table, first. Parties and reservations do
 * not hold a table: a host moves them, and a replace keeps the table ids they already name (tablesToFind).
 */
export function tableDeletionRefusal(tableId: string, openOrders: number): string | undefined {
  if (openOrders <= 0) return undefined;
  const [orders, them] = openOrders === 1 ? ['1 open order names', 'it'] : [`${openOrders} open orders name`, 'them'];
  return `table ${JSON.stringify(tableId)} cannot be deleted: ${orders} it; close ${them} (PUT with status Finalized or Canceled) or move ${them} to another table first`;
}

/**
 * Whether a venue's replace of an order may name a table the venue no longer has (deleted since the order named it):
 * only the table the stored order already names, and not to open a closed order there, so a POS can always edit or
 * close an order whose table went while no open order is left at a table that is gone.
 */
export function mayKeepGoneTable(stored: { tableId: string | null; status: string } | undefined, tableId: string, status: string | undefined): boolean {
  return stored !== undefined && stored.tableId === tableId && (!isClosedStatus(stored.status) || isClosedStatus(status));
}

/**
 * The tables a write of a party or reservation must find at the venue: those it names that its stored row (none for a
 * create) does not already name. Parties and reservations do not hold a table, so the venue may delete one they name;
 * a replace that still names it (Dojo's UpdatePartyV1 and UpdateReservationV1, the venue's PUT) is not refused for it,
 * while newly naming a table that is gone is.
 */
export function tablesToFind(tableIds: readonly string[], storedTableIds: readonly string[] = []): string[] {
  const stored = new Set(storedTableIds);
  return [...new Set(tableIds)].filter((id) => !stored.has(id));
}
