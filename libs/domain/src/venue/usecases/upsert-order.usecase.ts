import type { Models } from '@app/contracts';
import { dojoOrderToCreateData } from '../../dialects/epos-data/orders.mapping';
import { assertOrderEditableByVenue } from '../../locks/order-lock-guard';
import { isClosedStatus } from '../../core/rules';
import { checkVenueOrder } from '../order-rows';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { DomainRefusal } from '../../core/refusal';
import { DomainError } from '../../admin/errors';
import { requireVenueEntity } from '../validation';
import { requireVenueTables } from '../table-refs';

/** Creates or replaces an order from Dojo's Order shape (its table, when given, must exist at the venue), and tells Dojo it changed (outbox). */
export class UpsertOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string, body: unknown): Promise<VenueUpsertResult> {
    const order = requireVenueEntity<Models.Order>('Order', 'order', orderId, body);
    checkVenueOrder(order);
    const rows = rowsOf(locationId, orderId, order);
    return this.d.venue.transaction(async (s) => {
      // A dine-in order at a table the venue does not have would show at no table.
      if (rows.order.tableId) await requireVenueTables(s.tables, locationId, [{ field: 'details.dineIn.tableId', tableId: rows.order.tableId }]);
      const orders = s.orders;
      const existing = await orders.lockRowIfExists(locationId, orderId);
      if (existing) await assertOrderEditableByVenue(orders, locationId, orderId);
      const total = BigInt(rows.order.totalAmount);
      // Payable unless the venue says otherwise, the order is closed, or it is already fully paid.
      const payable = rows.order.payable !== false && !isClosedStatus(order.status) && (!existing || existing.paidAmount < total);
      const { locationId: _l, id: _i, origin: _o, dojoOrderId: _d, ...fields } = rows.order;
      const version = await orders.saveFromVenue(locationId, orderId, rows, { ...fields, payable }, !!existing);
      await s.enqueuePosEvent(locationId, 'OrderUpdated', orderId, { orderId });
      return { id: orderId, version, created: !existing };
    });
  }
}

/** The order's rows; the core's refusal of its amounts (checkVenueOrder catches most first) as the venue API's field error. */
function rowsOf(locationId: string, orderId: string, order: Models.Order) {
  try {
    return dojoOrderToCreateData(locationId, order, { id: orderId, origin: 'pos' });
  } catch (err) {
    if (err instanceof DomainRefusal) throw DomainError.invalid([{ field: err.field ?? 'order', reason: err.message }], err.message);
    throw err;
  }
}
