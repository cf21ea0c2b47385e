import { EposError, Models } from '@app/contracts';
import { applyPendingEventsForIntent } from '../../events/apply-pending-events';
import { decidePayment, isPayable, isValidMinorAmount, liveLock, paidTotals } from '../../core/rules';
import { lockedOrderForChange, requireOrder } from '../../orders/order-for-change';
import { orderToDojo, OrderWithRelations } from '../../orders/order-mapper';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';

/**
 * RecordOrderPaymentByIdV1: records a payment Dojo took against an order and
 * returns the updated order.
 *
 * - Idempotent on paymentIntentId: the same intent with the same order and
 *   amounts returns the order unchanged; with anything else it is Conflict.
 * - Refused with Conflict (Dojo then refunds) when the order is Canceled,
 *   Finalized or Failed, not payable, held by another live lock, in another
 *   currency, or when the amount is more than what is outstanding.
 * - Runs under the order's row lock, so racing payments are applied one at a
 *   time: no lost update, no overpayment.
 *
 * Under RpcDispatcher the plan takes the payment intent's lock (the one the
 * events worker takes, before the order row lock, in the events worker's
 * order) and reads the order, its lock, the intent's payment and whether
 * events wait for the intent. With no event waiting, the payment, the order's
 * new totals (as recomputeOrderPaid would set them), the venue feed entry, the
 * POS event and the stored response are one statement, and the returned order
 * is computed from what was read. When events wait, they are applied
 * (applyPendingEventsForIntent) and the order is recomputed and read again.
 */
export class RecordOrderPayment implements UseCase<Models.RecordOrderPaymentRequest, Models.Order> {
  plan(locationId: string, params: Models.RecordOrderPaymentRequest): MutationPlan | undefined {
    if (typeof params?.orderId !== 'string' || typeof params.paymentIntentId !== 'string') return undefined;
    return Orders.changePlan(locationId, params.orderId, { paymentIntentId: params.paymentIntentId });
  }

  async execute(ctx: ExecContext, params: Models.RecordOrderPaymentRequest): Promise<Models.Order> {
    const { db, locationId, now } = ctx;
    const paid = params.paidAmount;
    const tips = params.tipsAmount;
    if (!isValidMinorAmount(paid.value)) throw EposError.invalid('paidAmount.value must be a non-negative integer in minor units');
    if (tips && !isValidMinorAmount(tips.value)) throw EposError.invalid('tipsAmount.value must be a non-negative integer in minor units');
    const tipsValue = BigInt(tips?.value ?? 0);
    const paidValue = BigInt(paid.value);

    const found = lockedOrderForChange(ctx, params.orderId);
    const order = found.order;
    const existing = found.payment;
    const attempt = {
      paymentRef: params.paymentIntentId,
      amount: paidValue,
      tips: tipsValue,
      currency: paid.currencyCode,
      tipsCurrency: tips?.currencyCode,
      lockRef: params.lockId,
    };
    const decision = decidePayment(order, liveLock(found.lock, now), existing, attempt, now);
    if (decision.kind === 'mismatch') {
      throw EposError.conflict(
        `payment intent ${params.paymentIntentId} is already recorded against order ${decision.existing.orderId} ` +
          `with paidAmount ${decision.existing.paidAmount} and tipsAmount ${decision.existing.tipsAmount} ${decision.existing.currency}; ` +
          'it cannot be recorded again with other values',
      );
    }
    if (decision.kind === 'replay') {
      ctx.log.info({ orderId: order.id, paymentIntentId: params.paymentIntentId }, 'payment already recorded; returning the order unchanged');
      return orderToDojo(order);
    }
    if (decision.kind === 'refuse') throw EposError.conflict(`payment ${params.paymentIntentId} was not recorded: ${decision.reason}`);

    const at = new Date();
    const payment: OrderWithRelations['payments'][number] = {
      locationId,
      paymentIntentId: params.paymentIntentId,
      orderId: order.id,
      currency: order.currency,
      paidAmount: paidValue,
      tipsAmount: tipsValue,
      lockId: params.lockId ?? null,
      state: 'Recorded',
      intentStatus: null,
      createdAt: at,
      updatedAt: at,
    };
    const orders = ordersRepo(db);
    const insertPayment = Orders.insertPayment(payment);
    const feedData = (updated: OrderWithRelations) => ({
      orderId: order.id,
      paymentIntentId: params.paymentIntentId,
      paidAmount: paid.value,
      tipsAmount: Number(tipsValue),
      currency: order.currency,
      lockId: params.lockId,
      orderPaidAmount: Number(updated.paidAmount),
      orderTotalAmount: Number(updated.totalAmount),
      payable: updated.payable,
    });

    if (found.eventsWaiting !== false) {
      // Events wait for this intent: apply them, then recompute and read.
      await orders.commit([insertPayment]);
      // Dojo events for this intent that arrived before the payment (e.g. a refund) apply now.
      await applyPendingEventsForIntent(db, locationId, params.paymentIntentId);
      await orders.recomputePaid(locationId, order.id);
      const updated = await requireOrder(ctx, order.id);
      const result = orderToDojo(updated);
      const writes = Orders.publishChange(locationId, order.id, 'payment.recorded', feedData(updated));
      if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
      await orders.commit(writes);
      return result;
    }

    // No event waits: the order's totals are what recomputeOrderPaid computes from the payments read under the row lock plus this one.
    const { updated, changed } = withPayment(order, payment, found.dbNow);
    const writes = [insertPayment];
    if (changed) writes.push(Orders.setPaidTotals(locationId, order.id, updated));
    const result = orderToDojo(updated);
    writes.push(...Orders.publishChange(locationId, order.id, 'payment.recorded', feedData(updated)));
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await orders.commit(writes);
    return result;
  }
}

/**
 * The order as a fresh read gives it after `payment` (state Recorded) is added
 * and recomputeOrderPaid ran: paid/tips are the sums over Recorded payments,
 * payable is paid < total (the order is open), and only when one of them
 * changed are version bumped and updatedAt set to the transaction's now().
 * `changed` says whether the orders row is to be updated.
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
  const payable = isPayable({ status: order.status, totalAmount: order.totalAmount, paidAmount: paid });
  const changed = paid !== order.paidAmount || tips !== order.tipsAmount || payable !== order.payable;
  if (!changed) return { updated: { ...order, payments }, changed };
  return { updated: { ...order, payments, paidAmount: paid, tipsAmount: tips, payable, version: order.version + 1, updatedAt: dbNow }, changed };
}
