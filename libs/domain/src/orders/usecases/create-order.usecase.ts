import { randomUUID } from 'node:crypto';
import { EposError, Models } from '@app/contracts';
import { recomputeOrderPaid } from '../../payments/recompute-order-paid';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { dojoOrderToCreateData, orderToDojo } from '../order-mapper';
import { findOrder, publishOrderChange, requireOrder } from '../order-store';

/**
 * CreateOrderV1: Dojo creates an order at the venue. Idempotent on
 * dojoOrderId: the same Dojo order again returns the order created the first
 * time. Payments that came with it are recorded, and the venue sees the new
 * order in its feed and as an OrderUpdated POS event.
 */
export class CreateOrder implements UseCase<Models.CreateOrderRequest, Models.Order> {
  async execute(ctx: ExecContext, params: Models.CreateOrderRequest): Promise<Models.Order> {
    const { db, locationId } = ctx;
    // Serialise creations of the same Dojo order (the unique key would also refuse a twin).
    await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`order:${locationId}:${params.dojoOrderId}`}, 0))`;
    const existing = await db.order.findUnique({
      where: { locationId_dojoOrderId: { locationId, dojoOrderId: params.dojoOrderId } },
      select: { id: true },
    });
    if (existing) {
      ctx.log.info({ orderId: existing.id, dojoOrderId: params.dojoOrderId }, 'order for this dojoOrderId exists; returning it');
      return orderToDojo(await requireOrder(db, locationId, existing.id));
    }
    const id = randomUUID();
    const data = dojoOrderToCreateData(locationId, params, { id, origin: 'dojo', dojoOrderId: params.dojoOrderId });
    await db.order.create({ data: data.order });
    if (data.items.length > 0) await db.orderItem.createMany({ data: data.items });

    const currency = String(data.order.currency);
    const payments = params.payments ?? [];
    for (const [i, p] of payments.entries()) {
      if (p.paidAmount.currencyCode !== currency || (p.tipsAmount && p.tipsAmount.currencyCode !== currency)) {
        throw EposError.invalid(`payments[${i}] is not in the order's currency ${currency}`);
      }
      if (p.paidAmount.value < 0 || (p.tipsAmount?.value ?? 0) < 0) throw EposError.invalid(`payments[${i}] has a negative amount`);
      const paymentIntentId = p.paymentIntentId ?? `${params.dojoOrderId}#${i}`;
      const clash = await db.payment.findUnique({ where: { locationId_paymentIntentId: { locationId, paymentIntentId } }, select: { orderId: true } });
      if (clash) throw EposError.conflict(`payment intent ${paymentIntentId} is already recorded against order ${clash.orderId}`);
      await db.payment.create({
        data: {
          locationId,
          paymentIntentId,
          orderId: id,
          currency,
          paidAmount: BigInt(p.paidAmount.value),
          tipsAmount: BigInt(p.tipsAmount?.value ?? 0),
        },
      });
    }
    await recomputeOrderPaid(db, locationId, id);
    const order = await findOrder(db, locationId, id);
    if (order && order.paidAmount > order.totalAmount) {
      throw EposError.invalid(`payments add up to ${order.paidAmount} but totalAmount is ${order.totalAmount}`);
    }
    await publishOrderChange(db, locationId, id, 'order.created', { orderId: id, dojoOrderId: params.dojoOrderId });
    return orderToDojo(order!);
  }
}
