import type { Models } from '@app/contracts';
import { dojoOrderToCreateData } from '../../dialects/epos-data/orders.mapping';
import { assertOrderEditableByVenue } from '../../locks/order-lock-guard';
import { isClosedStatus, leastOrderTotal, mayKeepGoneTable, orderCloseRefusal, orderCurrencyChangeRefusal, orderTotalRefusal } from '../../core/rules';
import type { OrderMoneyInFlight } from '../../core/rules';
import type { OrderCreateData, OrderWithRelations } from '../../orders/order-mapper';
import { orderRowOf } from '../../orders/order-mapper';
import { holdsVenueContent } from '../../orders/order-content';
import { OrdersRepository as Orders } from '../../repositories/orders.repository';
import { checkVenueOrder } from '../order-rows';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { DomainRefusal } from '../../core/refusal';
import { DomainError } from '../../admin/errors';
import { againIfCreatedMeanwhile } from '../created-meanwhile';
import { requireVenueEntity } from '../validation';
import { refuseUnknownTables } from '../table-refs';

/**
 * Creates or replaces an order from Dojo's Order shape (its table, when given, must exist at the venue unless the
 * stored order already names it: core/rules mayKeepGoneTable), and tells Dojo it changed (outbox). A replace may not
 * lower the total below what is paid plus what open payment intents and running counter sales may take (409
 * order_total_below_paid: core/rules orderTotalRefusal), nor close an open order while an open payment intent or a
 * running counter sale may still take money for it (409 order_payment_in_flight: core/rules orderCloseRefusal). One
 * transaction of
 * two round trips on pg: the locks and reads (VenueStore.openOrderEdit), then the order, its items and the POS event
 * as one statement sent with COMMIT.
 */
/**
 * A conditional write (the PUT's If-Match): `version`, only while the stored order is at that version (what the POS
 * read and edited); `exists`, only when there is an order to replace. Unconditional writes are last writer wins.
 */
export type OrderWriteCondition = { version: number } | 'exists';

export class UpsertOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string, body: unknown, condition?: OrderWriteCondition): Promise<VenueUpsertResult> {
    const order = requireVenueEntity<Models.Order>('Order', 'order', orderId, body);
    checkVenueOrder(order);
    const rows = rowsOf(locationId, orderId, order);
    // Two PUTs of a new order at once: the one that finds it created meanwhile replaces it (Dojo's lock, what was paid checked again).
    return againIfCreatedMeanwhile(() => this.save(locationId, orderId, order, rows, condition));
  }

  private save(locationId: string, orderId: string, order: Models.Order, rows: OrderCreateData, condition?: OrderWriteCondition): Promise<VenueUpsertResult> {
    const tableId = rows.order.tableId;
    return this.d.venue.sqlTransaction(async (s) => {
      const edit = await s.openOrderEdit(locationId, orderId, tableId ? [tableId] : []);
      const current = edit.current;
      // Checked under the row lock: two tills that read version 5 cannot both replace it.
      if (condition !== undefined && !conditionHolds(condition, current?.version)) {
        // A PUT retried after its answer was lost finds the version it wrote: when the order already holds exactly
        // what this write would write, the change has been made and is answered as made (RFC 9110 §13.1.1), at the
        // stored version, without writing again. Read only then, under the row lock.
        const stored = current ? await s.readOrder(locationId, orderId) : null;
        if (stored && holdsVenueContent(stored, proposedRow(rows, stored))) return { id: orderId, version: stored.version, created: false, unchanged: true };
        refuseUnmet(orderId, condition, current?.version);
      }
      // A dine-in order at a table the venue does not have would show at no table; one already there (the table was
      // deleted since) may stay, so that the POS can still edit and close it (core/rules mayKeepGoneTable).
      if (tableId && !mayKeepGoneTable(current, tableId, order.status)) refuseUnknownTables([{ field: 'details.dineIn.tableId', tableId }], edit.tables);
      if (current) assertOrderEditableByVenue(edit.lock, orderId);
      if (current && current.currency !== rows.order.currency) {
        // Rare: read only then, in the same transaction, under the row lock (what writes these holds it too).
        const money = await s.readOrderMoney(locationId, orderId);
        const refused = orderCurrencyChangeRefusal(orderId, current.currency, rows.order.currency, money);
        if (refused) throw DomainError.conflict(refused, { error: 'order_currency_fixed', currency: current.currency });
      }
      const total = BigInt(rows.order.totalAmount);
      // Rare: read only when needed, under the row lock, which the writes of payments, intents and counter sales take too.
      let inFlight: OrderMoneyInFlight | undefined;
      if (current && total < current.totalAmount) {
        inFlight = await s.readMoneyInFlight(locationId, orderId);
        const refused = orderTotalRefusal(orderId, total, current, inFlight);
        if (refused) {
          throw DomainError.conflict(refused, {
            error: 'order_total_below_paid',
            paidAmount: Number(current.paidAmount),
            heldAmount: Number(inFlight.openIntentAmount + inFlight.openCounterSaleAmount),
            leastTotalAmount: Number(leastOrderTotal(current.paidAmount, inFlight)),
          });
        }
      }
      if (current && isClosedStatus(order.status) && !isClosedStatus(current.status)) {
        inFlight ??= await s.readMoneyInFlight(locationId, orderId);
        const refused = orderCloseRefusal(orderId, current.status, order.status, inFlight);
        if (refused) {
          throw DomainError.conflict(refused, {
            error: 'order_payment_in_flight',
            openIntentAmount: Number(inFlight.openIntentAmount),
            counterSaleAmount: Number(inFlight.openCounterSaleAmount),
          });
        }
      }
      // Payable unless the venue says otherwise, the order is closed, or it is already fully paid.
      const payable = rows.order.payable !== false && !isClosedStatus(order.status) && (current?.paidAmount ?? 0n) < total;
      const version = current ? current.version + 1 : 1;
      const at = new Date();
      // Paid and tips amounts follow the payments: a replace leaves them as they are (replaceFromVenue does not write them).
      const row = orderRowOf(rows, { paidAmount: 0n, tipsAmount: 0n, payable, version, createdAt: at, updatedAt: at, payments: [] });
      await s.commitWithPosEvent(current ? Orders.replaceFromVenue(row) : Orders.insertOrder(row), locationId, 'OrderUpdated', orderId, { orderId });
      return { id: orderId, version, created: !current };
    });
  }
}

/** Whether the write's condition holds for the stored order (at `stored`, or none). */
function conditionHolds(condition: OrderWriteCondition, stored: number | undefined): boolean {
  return stored !== undefined && (condition === 'exists' || condition.version === stored);
}

/** 412 for a write whose condition does not hold for the stored order (at `stored`, or none). */
function refuseUnmet(orderId: string, condition: OrderWriteCondition, stored: number | undefined): never {
  if (stored === undefined) {
    throw new DomainError('precondition_failed', `order ${orderId} does not exist: If-Match needs an order to replace`, [], { error: 'version_mismatch', version: null });
  }
  throw new DomainError('precondition_failed', `order ${orderId} is at version ${stored}${condition === 'exists' ? '' : `, not ${condition.version}`}: read it again and apply your change to it`, [], {
    error: 'version_mismatch',
    version: stored,
  });
}

/** The row this write would leave, with the stored order's server-kept fields (what holdsVenueContent leaves out). */
function proposedRow(rows: OrderCreateData, stored: OrderWithRelations): OrderWithRelations {
  return orderRowOf(rows, { paidAmount: stored.paidAmount, tipsAmount: stored.tipsAmount, payable: stored.payable, version: stored.version, createdAt: stored.createdAt, updatedAt: stored.updatedAt, payments: stored.payments });
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
