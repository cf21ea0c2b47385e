import { randomUUID } from 'node:crypto';
import { DomainRefusal } from '../../core/refusal';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import type { Order, PlaceOrder } from '../../core/commands';
import type { OrderCreateData, OrderWithRelations } from '../order-mapper';
import { orderRowOf, orderRowsOf } from '../order-mapper';
import { dojoOrderLockKey, isPayable, paidTotals, placedPaymentRefusal } from '../../core/rules';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';
import { applyPendingEventsForIntent } from '../../events/apply-pending-events';
import { requireOrder } from '../order-for-change';

/**
 * Dojo places an order at the venue (PlaceOrder; EPOS Data's CreateOrderV1).
 * Idempotent on dojoOrderId: the same Dojo order again returns the order
 * created the first time, whatever the repeat says. Otherwise the draft is
 * checked (core/rules checkOrderDraft), payments that came with it are
 * recorded, and the venue sees the new order in its feed and as an
 * OrderUpdated POS event.
 *
 * A dine-in order's table must exist at the venue (NotFound naming it, as
 * CreatePartyV1's tables): the plan key-share-locks it, so the venue cannot
 * delete it until the order is committed (and then finds the order open there).
 *
 * Under RpcDispatcher the plan takes the Dojo order's advisory lock and its
 * payment intents' locks (the events worker's), and reads the existing order,
 * the recorded payment references, the intents with Dojo events waiting
 * for their payment and the table (key-share-locked); the order, its items and payments (with the totals
 * recomputeOrderPaid would set), the venue feed entry, the POS event and the
 * stored response are then one statement. Events that were waiting for these
 * payments (order and pay: Dojo's events may come before CreateOrderV1) are
 * applied in the same transaction, and the answer is the order after them.
 */
export class CreateOrder implements UseCase<PlaceOrder, Order> {
  plan(locationId: string, cmd: PlaceOrder): MutationPlan {
    const refs = cmd.payments.map((p) => p.paymentRef);
    return Orders.createPlan(locationId, cmd.dojoOrderId, dojoOrderLockKey(locationId, cmd.dojoOrderId), refs, tableOf(cmd));
  }

  async execute(ctx: ExecContext, cmd: PlaceOrder): Promise<Order> {
    const { locationId } = ctx;
    if (!ctx.planned) throw new Error('CreateOrder runs under RpcDispatcher with its plan');
    const pre = Orders.parseCreate(ctx.planned.pre);
    if (pre.existing) {
      ctx.log.info({ orderId: pre.existing.id, dojoOrderId: cmd.dojoOrderId }, 'order for this dojoOrderId exists; returning it');
      return pre.existing;
    }
    const id = randomUUID();
    const data = orderRowsOf(locationId, cmd.draft, { id, origin: 'dojo', dojoOrderId: cmd.dojoOrderId });
    // Read (and key-share-locked) by the plan: a table the venue does not have, or deleted before this held it.
    const tableId = tableOf(cmd);
    if (tableId !== undefined && !pre.tableFound) throw DomainRefusal.notFound('table', tableId);
    const currency = String(data.order.currency);
    const at = new Date();
    const recorded = pre.clashes;
    const payments: OrderWithRelations['payments'] = [];
    for (const [i, p] of cmd.payments.entries()) {
      const refusal = placedPaymentRefusal(p, i, currency);
      if (refusal) throw refusal;
      const clash = recorded.get(p.paymentRef);
      if (clash !== undefined) throw DomainRefusal.conflict(`payment intent ${p.paymentRef} is already recorded against order ${clash}`);
      recorded.set(p.paymentRef, id);
      payments.push({
        locationId, paymentIntentId: p.paymentRef, orderId: id, currency, paidAmount: BigInt(p.amount.value), tipsAmount: BigInt(p.tips?.value ?? 0),
        cashbackAmount: 0n, refundedAmount: 0n, lockId: null, state: 'Recorded', intentStatus: null, createdAt: at, updatedAt: at,
      });
    }
    const row = createdRow(data, payments, at, pre.dbNow);
    if (row.paidAmount > row.totalAmount) {
      throw DomainRefusal.invalid(`payments add up to ${row.paidAmount} but totalAmount is ${row.totalAmount}`);
    }
    const orders = ordersRepo(ctx.db);
    const writes = [
      ...Orders.insertOrder(row),
      ...Orders.publishChange(locationId, id, 'order.created', { orderId: id, dojoOrderId: cmd.dojoOrderId }),
    ];
    // The plan read them among this order's own payment references, under their intents' locks.
    const waiting = pre.eventsWaiting;
    if (waiting.length === 0) {
      if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', row));
      await orders.commit(writes);
      return row;
    }
    // Dojo's events for these payments came first (order and pay: the payment is taken before the order is
    // placed): they apply now, as RecordPayment applies them, and the answer is the order after them.
    await orders.commit(writes);
    for (const ref of waiting) await applyPendingEventsForIntent(ctx.db, locationId, ref, ctx.log);
    await orders.recomputePaid(locationId, id);
    const updated = await requireOrder(ctx, id);
    if (ctx.storeResponse) await orders.commit([ctx.storeResponse('pr', updated)]);
    return updated;
  }
}

/** The table a dine-in order is placed at, if it names one. */
function tableOf(cmd: PlaceOrder): string | undefined {
  return cmd.draft.details.orderType === 'DineIn' ? cmd.draft.details.tableId : undefined;
}

/**
 * The order row as a fresh read gives it once created with its payments and
 * recomputed (recomputeOrderPaid): paid/tips are the sums of the payments,
 * payable is paid < total for an open order, and when that changed anything,
 * version is 2 and updatedAt the transaction's now(). `seq` is assigned by
 * the insert and is not part of the contract Order; it is left 0 here.
 */
function createdRow(data: OrderCreateData, payments: OrderWithRelations['payments'], at: Date, dbNow: Date): OrderWithRelations {
  const o = data.order;
  const { paid, tips } = paidTotals(payments);
  const initialPayable = o.payable ?? true;
  const payable = isPayable({ status: o.status ?? 'New', totalAmount: BigInt(o.totalAmount), paidAmount: paid });
  const changed = paid !== 0n || tips !== 0n || payable !== initialPayable;
  return orderRowOf(data, {
    paidAmount: paid,
    tipsAmount: tips,
    payable: changed ? payable : initialPayable,
    version: changed ? 2 : 1,
    createdAt: at,
    updatedAt: changed ? dbNow : at,
    payments,
  });
}
