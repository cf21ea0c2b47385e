import { EposError } from '@app/contracts';
import type { Tx } from '../shared/tx';
import { appendVenueFeed, FeedKind } from '../shared/venue-feed';
import { enqueuePosEvent } from '../shared/pos-outbox';
import { ORDER_INCLUDE, OrderWithRelations } from './order-mapper';

/**
 * Takes the row lock on one order (SELECT ... FOR UPDATE) inside the caller's
 * interactive transaction, so concurrent payments, lock changes and
 * cancellations of the same order run one after another. Throws NotFound when
 * the order does not exist at this location.
 */
export async function lockOrderRow(tx: Tx, locationId: string, orderId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM orders WHERE location_id = ${locationId}::uuid AND id = ${orderId} FOR UPDATE`;
  if (rows.length === 0) throw EposError.notFound('order', orderId);
}

/** The order with items and payments, or null. Scoped to the location. */
export function findOrder(db: Tx, locationId: string, orderId: string): Promise<OrderWithRelations | null> {
  return db.order.findUnique({ where: { locationId_id: { locationId, id: orderId } }, include: ORDER_INCLUDE });
}

export async function requireOrder(db: Tx, locationId: string, orderId: string): Promise<OrderWithRelations> {
  const order = await findOrder(db, locationId, orderId);
  if (!order) throw EposError.notFound('order', orderId);
  return order;
}

/** Order statuses after which nothing can be paid, locked or cancelled. */
export const CLOSED_STATUSES = new Set(['Canceled', 'Finalized', 'Failed']);

/**
 * Makes a change Dojo made to an order visible to the venue: an entry in the
 * venue feed and an OrderUpdated POS event in the outbox, both in `tx`.
 */
export async function publishOrderChange(tx: Tx, locationId: string, orderId: string, kind: FeedKind, data: unknown): Promise<void> {
  await appendVenueFeed(tx, locationId, kind, 'order', orderId, data);
  await enqueuePosEvent(tx, locationId, 'OrderUpdated', orderId, { orderId });
}
