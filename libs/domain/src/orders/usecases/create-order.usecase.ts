import { randomUUID } from 'node:crypto';
import type { Models } from '@app/contracts';
import { DomainRefusal } from '../../core/refusal';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import type { Order } from '../../core/commands';
import type { OrderCreateData, OrderWithRelations } from '../order-mapper';
import { dojoOrderToCreateData } from '../order-mapper';
import { dojoOrderLockKey, isPayable, paidTotals } from '../../core/rules';
import { ordersRepo, OrdersRepository as Orders } from '../../repositories/orders.repository';

const intentIdOf = (params: Models.CreateOrderRequest, p: Models.Payment, i: number) => p.paymentIntentId ?? `${params.dojoOrderId}#${i}`;

/**
 * CreateOrderV1: Dojo creates an order at the venue. Its command is still the
 * EPOS Data CreateOrderRequest (the dialect's order shape, mapped to rows by
 * orders/order-mapper.ts); its result is the domain Order. Idempotent on
 * dojoOrderId: the same Dojo order again returns the order created the first
 * time. Payments that came with it are recorded, and the venue sees the new
 * order in its feed and as an OrderUpdated POS event.
 *
 * Under RpcDispatcher the plan takes the Dojo order's advisory lock and reads
 * the existing order and the recorded intents; the order, its items and
 * payments (with the totals recomputeOrderPaid would set), the venue feed
 * entry, the POS event and the stored response are then one statement.
 */
export class CreateOrder implements UseCase<Models.CreateOrderRequest, Order> {
  plan(locationId: string, params: Models.CreateOrderRequest): MutationPlan | undefined {
    if (typeof params?.dojoOrderId !== 'string' || (params.payments !== undefined && !Array.isArray(params.payments))) return undefined;
    const intents = (params.payments ?? []).map((p, i) => intentIdOf(params, p ?? ({} as Models.Payment), i));
    return Orders.createPlan(locationId, params.dojoOrderId, dojoOrderLockKey(locationId, params.dojoOrderId), intents);
  }

  async execute(ctx: ExecContext, params: Models.CreateOrderRequest): Promise<Order> {
    const { locationId } = ctx;
    if (!ctx.planned) throw DomainRefusal.invalid('dojoOrderId must be a string and payments an array');
    const pre = Orders.parseCreate(ctx.planned.pre);
    if (pre.existing) {
      ctx.log.info({ orderId: pre.existing.id, dojoOrderId: params.dojoOrderId }, 'order for this dojoOrderId exists; returning it');
      return pre.existing;
    }
    const id = randomUUID();
    const data = dojoOrderToCreateData(locationId, params, { id, origin: 'dojo', dojoOrderId: params.dojoOrderId });
    const currency = String(data.order.currency);
    const at = new Date();
    const recorded = pre.clashes;
    const payments: OrderWithRelations['payments'] = [];
    for (const [i, p] of (params.payments ?? []).entries()) {
      checkPayment(p, i, currency);
      const paymentIntentId = intentIdOf(params, p, i);
      const clash = recorded.get(paymentIntentId);
      if (clash !== undefined) throw DomainRefusal.conflict(`payment intent ${paymentIntentId} is already recorded against order ${clash}`);
      recorded.set(paymentIntentId, id);
      payments.push({
        locationId, paymentIntentId, orderId: id, currency, paidAmount: BigInt(p.paidAmount.value), tipsAmount: BigInt(p.tipsAmount?.value ?? 0),
        cashbackAmount: 0n, lockId: null, state: 'Recorded', intentStatus: null, createdAt: at, updatedAt: at,
      });
    }
    const row = createdRow(data, payments, at, pre.dbNow);
    if (row.paidAmount > row.totalAmount) {
      throw DomainRefusal.invalid(`payments add up to ${row.paidAmount} but totalAmount is ${row.totalAmount}`);
    }
    const result = row;
    const writes = [
      ...Orders.insertOrder(row),
      ...Orders.publishChange(locationId, id, 'order.created', { orderId: id, dojoOrderId: params.dojoOrderId }),
    ];
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await ordersRepo(ctx.db).commit(writes);
    return result;
  }
}

function checkPayment(p: Models.Payment, i: number, currency: string): void {
  if (p.paidAmount.currencyCode !== currency || (p.tipsAmount && p.tipsAmount.currencyCode !== currency)) {
    throw DomainRefusal.invalid(`payments[${i}] is not in the order's currency ${currency}`);
  }
  if (p.paidAmount.value < 0 || (p.tipsAmount?.value ?? 0) < 0) throw DomainRefusal.invalid(`payments[${i}] has a negative amount`);
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
  const status = (o.status ?? 'New');
  const initialPayable = o.payable ?? true;
  const payable = isPayable({ status, totalAmount: BigInt(o.totalAmount), paidAmount: paid });
  const changed = paid !== 0n || tips !== 0n || payable !== initialPayable;
  return {
    locationId: o.locationId,
    id: o.id,
    seq: 0n,
    origin: o.origin ?? 'pos',
    dojoOrderId: o.dojoOrderId ?? null,
    reference: o.reference ?? null,
    displayName: o.displayName ?? null,
    note: o.note ?? null,
    status,
    orderType: o.orderType,
    tableId: o.tableId ?? null,
    waiterId: o.waiterId ?? null,
    partyId: o.partyId ?? null,
    reservationId: o.reservationId ?? null,
    readyAt: (o.readyAt as Date | null | undefined) ?? null,
    collectionAsap: o.collectionAsap ?? null,
    collectAt: (o.collectAt as Date | null | undefined) ?? null,
    customer: (o.customer ?? null) as OrderWithRelations['customer'],
    discounts: o.discounts as OrderWithRelations['discounts'],
    taxLines: o.taxLines as OrderWithRelations['taxLines'],
    currency: o.currency,
    totalAmount: BigInt(o.totalAmount),
    serviceChargeAmount: o.serviceChargeAmount === null || o.serviceChargeAmount === undefined ? null : BigInt(o.serviceChargeAmount),
    paidAmount: paid,
    tipsAmount: tips,
    payable: changed ? payable : initialPayable,
    version: changed ? 2 : 1,
    createdAt: at,
    updatedAt: changed ? dbNow : at,
    items: data.items.map((it) => ({
      locationId: it.locationId,
      orderId: it.orderId,
      position: it.position,
      name: it.name,
      plu: it.plu,
      quantity: it.quantity,
      amountPerItem: BigInt(it.amountPerItem as bigint),
      note: it.note ?? null,
      modifiers: it.modifiers as OrderWithRelations['items'][number]['modifiers'],
      subItems: it.subItems as OrderWithRelations['items'][number]['subItems'],
    })),
    payments,
  };
}
