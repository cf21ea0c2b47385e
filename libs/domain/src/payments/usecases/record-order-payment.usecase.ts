import { DomainRefusal } from '../../core/refusal';
import type { Order, RecordPayment } from '../../core/commands';
import { applyPendingEventsForIntent } from '../../events/apply-pending-events';
import { decidePayment, isPayable, isWaiterAllowed, liveLock, paidTotals, paymentLockOf, paymentTakerOf, heldLockRef } from '../../core/rules';
import { lockedOrderForChange, requireOrder } from '../../orders/order-for-change';
import type { OrderWithRelations } from '../../orders/order-mapper';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';

/**
 * RecordPayment: records a payment taken against an order and returns the
 * updated order. The rule is core/rules decidePayment:
 *
 * - Idempotent on the payment reference: the same reference with the same
 *   order and amounts returns the order unchanged; with anything else it is
 *   Conflict.
 * - Refused with Conflict (Dojo then refunds) when the order is closed, not
 *   payable, held by another live lock, in another currency, or when the
 *   amount is more than what is outstanding. A counter sale (source
 *   connect-pac: the venue's POS started it, and the card is charged) is not
 *   refused by the venue's own hold (payable false). A card machine's payment
 *   (EPOS Data, Tables API, Connect PAT) is also refused beyond what is
 *   outstanding less what the counter sales still running against the order
 *   may take: the counter terminal may be charging the bill at that moment.
 * - Runs under the order's row lock, so racing payments are applied one at a
 *   time: no lost update, no overpayment.
 *
 * Under RpcDispatcher the plan takes the payment intent's lock (the one the
 * events worker takes, before the order row lock, in the events worker's
 * order) and reads the order, its lock, the intent's payment, whether
 * events wait for the intent and, for a card machine's payment, what the
 * counter sales running against the order hold (a sale's start takes the
 * order's row lock too, so none starts unseen). With no event waiting, the payment, the order's
 * new totals (as recomputeOrderPaid would set them), the venue feed entry, the
 * POS event and the stored response are one statement, and the returned order
 * is computed from what was read. When events wait, they are applied
 * (applyPendingEventsForIntent) and the order is recomputed and read again.
 */
export class RecordOrderPayment implements UseCase<RecordPayment, Order> {
  plan(locationId: string, cmd: RecordPayment): MutationPlan {
    // A card machine's payment must leave what the counter sales running against the order may take (decidePayment).
    return Orders.changePlan(locationId, cmd.orderId, { paymentIntentId: cmd.paymentRef, counterSales: paymentTakerOf(cmd.source) === 'card_machine' });
  }

  async execute(ctx: ExecContext, cmd: RecordPayment): Promise<Order> {
    const { db, locationId, now } = ctx;
    const found = lockedOrderForChange(ctx, cmd.orderId);
    const order = found.order;
    const existing = found.payment;
    if (cmd.waiterId !== undefined && !isWaiterAllowed(order.waiterId, cmd.waiterId)) {
      throw DomainRefusal.conflict(`order ${order.id} belongs to another waiter than ${cmd.waiterId}`, 'wrong_waiter');
    }
    const live = liveLock(found.lock, now);
    let lockRef = heldLockRef(live, cmd.lockRef, cmd.terminalLock);
    if (cmd.mustHoldLock) {
      // The terminal's own lock, also once expired while no one has locked the order since (core/rules paymentLockOf).
      const own = paymentLockOf(found.lock, live !== null, cmd.lockRef, cmd.terminalLock);
      if (own === undefined) {
        throw DomainRefusal.conflict(
          live ? `order ${order.id} is locked by another lock (${live.lockId}), not ${lockRef}` : `order ${order.id} is not locked; lock it before recording a payment`,
          'not_locked',
        );
      }
      lockRef = own;
    }
    if (cmd.attemptFailed) {
      ctx.log.info({ orderId: order.id, paymentRef: cmd.paymentRef }, 'failed payment attempt reported; nothing recorded');
      return order;
    }
    const decision = decidePayment(order, live, existing, { ...cmd, lockRef }, now, found.openCounterSales);
    if (decision.kind === 'mismatch') {
      throw DomainRefusal.conflict(
        `payment intent ${cmd.paymentRef} is already recorded against order ${decision.existing.orderId} ` +
          `with paidAmount ${decision.existing.paidAmount} and tipsAmount ${decision.existing.tipsAmount} ${decision.existing.currency}` +
          `${decision.existing.attemptedAt ? `, attempted at ${decision.existing.attemptedAt.toISOString()}` : ''}; ` +
          'it cannot be recorded again with other values',
        'reference_reused',
      );
    }
    if (decision.kind === 'replay') {
      if (cmd.refuseReplay) throw DomainRefusal.conflict(`payment ${cmd.paymentRef} is already recorded against order ${order.id}`, 'already_recorded');
      ctx.log.info({ orderId: order.id, paymentIntentId: cmd.paymentRef }, 'payment already recorded; returning the order unchanged');
      return order;
    }
    if (decision.kind === 'refuse') throw DomainRefusal.conflict(`payment ${cmd.paymentRef} was not recorded: ${decision.reason}`);

    const at = new Date();
    const payment: OrderWithRelations['payments'][number] = {
      locationId,
      paymentIntentId: cmd.paymentRef,
      orderId: order.id,
      currency: order.currency,
      paidAmount: cmd.amount,
      tipsAmount: cmd.tips,
      refundedAmount: 0n,
      cashbackAmount: cmd.cashback ?? 0n,
      lockId: lockRef ?? null,
      state: 'Recorded',
      intentStatus: null,
      createdAt: at,
      updatedAt: at,
    };
    const orders = ordersRepo(db);
    const insertPayment = Orders.insertPayment(payment, cmd.attemptedAt);
    const feedData = (updated: OrderWithRelations) => ({
      orderId: order.id,
      paymentIntentId: cmd.paymentRef,
      paidAmount: Number(cmd.amount),
      tipsAmount: Number(cmd.tips),
      ...(cmd.cashback ? { cashbackAmount: Number(cmd.cashback) } : {}),
      currency: order.currency,
      lockId: lockRef,
      orderPaidAmount: Number(updated.paidAmount),
      orderTotalAmount: Number(updated.totalAmount),
      payable: updated.payable,
    });

    if (found.eventsWaiting !== false) {
      // Events wait for this intent: apply them, then recompute and read.
      await orders.commit([insertPayment]);
      // Dojo events for this intent that arrived before the payment (e.g. a refund) apply now.
      await applyPendingEventsForIntent(db, locationId, cmd.paymentRef, ctx.log);
      await orders.recomputePaid(locationId, order.id);
      const updated = await requireOrder(ctx, order.id);
      const writes = Orders.publishChange(locationId, order.id, 'payment.recorded', feedData(updated));
      if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', updated));
      await orders.commit(writes);
      return updated;
    }

    // No event waits: the order's totals are what recomputeOrderPaid computes from the payments read under the row lock plus this one.
    const { updated, changed } = withPayment(order, payment, found.dbNow);
    const writes = [insertPayment];
    if (changed) writes.push(Orders.setPaidTotals(locationId, order.id, updated));
    writes.push(...Orders.publishChange(locationId, order.id, 'payment.recorded', feedData(updated)));
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', updated));
    await orders.commit(writes);
    return updated;
  }
}

/**
 * The order as a fresh read gives it after `payment` (state Recorded) is added
 * and recomputeOrderPaid ran: paid/tips are the sums over Recorded payments,
 * payable is paid < total (the order is open, not held by the venue), and only when one of them
 * changed are version bumped and updatedAt set to the transaction's now().
 * `changed` says whether the orders row is to be updated. A held order
 * (heldByVenue) stays not payable.
 */
function withPayment(
  order: OrderWithRelations,
  payment: OrderWithRelations['payments'][number],
  dbNow: Date,
): { updated: OrderWithRelations; changed: boolean } {
  const payments = [...order.payments];
  let i = payments.length;
  while (i > 0 && payments[i - 1]!.createdAt.getTime() > payment.createdAt.getTime()) i--;
  payments.splice(i, 0, payment);
  const { paid, tips } = paidTotals(payments);
  // The venue's hold stands through any payment (setPaidTotals writes payable AND NOT held_by_venue).
  const payable = isPayable({ status: order.status, totalAmount: order.totalAmount, paidAmount: paid }) && !order.heldByVenue;
  const changed = paid !== order.paidAmount || tips !== order.tipsAmount || payable !== order.payable;
  if (!changed) return { updated: { ...order, payments }, changed };
  return { updated: { ...order, payments, paidAmount: paid, tipsAmount: tips, payable, version: order.version + 1, updatedAt: dbNow }, changed };
}
