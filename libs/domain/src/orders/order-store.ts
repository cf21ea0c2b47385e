import { EposError } from '@app/contracts';
import type { Tx } from '../shared/tx';
import type { OrderWithRelations } from './order-mapper';
import { selectOrder } from './order-sql';

/** What taking the row lock reads of the order: enough to decide on a change without loading it. */
export interface LockedOrderRow {
  paidAmount: bigint;
  version: number;
}

/**
 * Takes the row lock on one order (SELECT ... FOR UPDATE) inside the caller's
 * interactive transaction, so concurrent payments, lock changes, cancellations
 * and venue edits of the same order run one after another. Returns undefined
 * when the order does not exist at this location (nothing is locked then).
 */
export async function lockOrderRowIfExists(tx: Tx, locationId: string, orderId: string): Promise<LockedOrderRow | undefined> {
  const rows = await tx.$queryRaw<{ paid_amount: bigint; version: number }[]>`
    SELECT paid_amount, version FROM orders WHERE location_id = ${locationId}::uuid AND id = ${orderId} FOR UPDATE`;
  return rows.length ? { paidAmount: rows[0].paid_amount, version: rows[0].version } : undefined;
}

/** lockOrderRowIfExists for an order that must exist: throws NotFound when it does not. */
export async function lockOrderRow(tx: Tx, locationId: string, orderId: string): Promise<LockedOrderRow> {
  const row = await lockOrderRowIfExists(tx, locationId, orderId);
  if (!row) throw EposError.notFound('order', orderId);
  return row;
}

/** The order with items and payments, or null, in one round trip. Scoped to the location. */
export function findOrder(db: Tx, locationId: string, orderId: string): Promise<OrderWithRelations | null> {
  return selectOrder(db, locationId, orderId);
}

export async function requireOrder(db: Tx, locationId: string, orderId: string): Promise<OrderWithRelations> {
  const order = await findOrder(db, locationId, orderId);
  if (!order) throw EposError.notFound('order', orderId);
  return order;
}
