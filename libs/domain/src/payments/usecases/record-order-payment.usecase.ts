import { EposError, Models } from '@app/contracts';
import { applyPendingEventsForIntent } from '../../events/apply-pending-events';
import { findLiveLock } from '../../locks/order-lock-guard';
import { orderToDojo } from '../../orders/order-mapper';
import { CLOSED_STATUSES, lockOrderRow, publishOrderChange, requireOrder } from '../../orders/order-store';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { recomputeOrderPaid } from '../recompute-order-paid';

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
 */
export class RecordOrderPayment implements UseCase<Models.RecordOrderPaymentRequest, Models.Order> {
  async execute(ctx: ExecContext, params: Models.RecordOrderPaymentRequest): Promise<Models.Order> {
    const { db, locationId, now } = ctx;
    const paid = params.paidAmount;
    const tips = params.tipsAmount;
    if (!Number.isSafeInteger(paid.value) || paid.value < 0) throw EposError.invalid('paidAmount.value must be a non-negative integer in minor units');
    if (tips && (!Number.isSafeInteger(tips.value) || tips.value < 0)) throw EposError.invalid('tipsAmount.value must be a non-negative integer in minor units');
    const tipsValue = BigInt(tips?.value ?? 0);

    await lockOrderRow(db, locationId, params.orderId);
    const order = await requireOrder(db, locationId, params.orderId);

    const existing = await db.payment.findUnique({
      where: { locationId_paymentIntentId: { locationId, paymentIntentId: params.paymentIntentId } },
    });
    if (existing) {
      const same =
        existing.orderId === order.id &&
        existing.paidAmount === BigInt(paid.value) &&
        existing.tipsAmount === tipsValue &&
        existing.currency === paid.currencyCode;
      if (!same) {
        throw EposError.conflict(
          `payment intent ${params.paymentIntentId} is already recorded against order ${existing.orderId} ` +
            `with paidAmount ${existing.paidAmount} and tipsAmount ${existing.tipsAmount} ${existing.currency}; it cannot be recorded again with other values`,
        );
      }
      ctx.log.info({ orderId: order.id, paymentIntentId: params.paymentIntentId }, 'payment already recorded; returning the order unchanged');
      return orderToDojo(order);
    }

    const refuse = (why: string) => EposError.conflict(`payment ${params.paymentIntentId} was not recorded: ${why}`);
    if (CLOSED_STATUSES.has(order.status)) throw refuse(`order ${order.id} is ${order.status}`);
    if (!order.payable) throw refuse(`order ${order.id} is not payable (fully paid, or being edited at the venue)`);
    if (paid.currencyCode !== order.currency || (tips && tips.currencyCode !== order.currency)) {
      throw refuse(`the order is in ${order.currency} but the payment is in ${tips && tips.currencyCode !== order.currency ? tips.currencyCode : paid.currencyCode}`);
    }
    const lock = await findLiveLock(db, locationId, order.id, now);
    if (lock && params.lockId !== undefined && lock.lockId !== params.lockId) {
      throw refuse(`order ${order.id} is locked by another lock (${lock.lockId}), not ${params.lockId}`);
    }
    const outstanding = order.totalAmount - order.paidAmount;
    if (BigInt(paid.value) > outstanding) {
      throw refuse(`paidAmount ${paid.value} is more than the ${outstanding} outstanding on order ${order.id} (total ${order.totalAmount}, paid ${order.paidAmount})`);
    }

    await db.payment.create({
      data: {
        locationId,
        paymentIntentId: params.paymentIntentId,
        orderId: order.id,
        currency: order.currency,
        paidAmount: BigInt(paid.value),
        tipsAmount: tipsValue,
        lockId: params.lockId ?? null,
      },
    });
    // Dojo events for this intent that arrived before the payment (e.g. a refund) apply now.
    await applyPendingEventsForIntent(db, locationId, params.paymentIntentId);
    await recomputeOrderPaid(db, locationId, order.id);
    const updated = await requireOrder(db, locationId, order.id);
    await publishOrderChange(db, locationId, order.id, 'payment.recorded', {
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
    return orderToDojo(updated);
  }
}
