import { randomUUID } from 'node:crypto';
import { EposError, Models } from '@app/contracts';
import { Prisma } from '@app/db';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { jsonText, runWrites, tsParam } from '../../shared/write-sql';
import { dojoOrderToCreateData, OrderCreateData, orderToDojo, OrderWithRelations } from '../order-mapper';
import { dojoOrderLockKey, isPayable, paidTotals } from '../../core/rules';
import { publishOrderChangeCtes } from '../order-for-change';
import { jsonValue, ORDER_JSON_SQL, OrderJson, orderRowFromJson } from '../order-sql';

const intentIdOf = (params: Models.CreateOrderRequest, p: Models.Payment, i: number) => p.paymentIntentId ?? `${params.dojoOrderId}#${i}`;

interface Pre {
  existing: OrderJson | null;
  /** payment intent id -> order id, for the intents of the request that are already recorded. */
  clashes: Record<string, string> | null;
  db_now: string;
}

/**
 * CreateOrderV1: Dojo creates an order at the venue. Idempotent on
 * dojoOrderId: the same Dojo order again returns the order created the first
 * time. Payments that came with it are recorded, and the venue sees the new
 * order in its feed and as an OrderUpdated POS event.
 *
 * Under RpcDispatcher the plan takes the Dojo order's advisory lock and reads
 * the existing order and the recorded intents; the order, its items and
 * payments (with the totals recomputeOrderPaid would set), the venue feed
 * entry, the POS event and the stored response are then one statement.
 */
export class CreateOrder implements UseCase<Models.CreateOrderRequest, Models.Order> {
  plan(locationId: string, params: Models.CreateOrderRequest): MutationPlan | undefined {
    if (typeof params?.dojoOrderId !== 'string' || (params.payments !== undefined && !Array.isArray(params.payments))) return undefined;
    const intents = (params.payments ?? []).map((p, i) => intentIdOf(params, p ?? ({} as Models.Payment), i));
    return {
      advisoryKeys: [dojoOrderLockKey(locationId, params.dojoOrderId)],
      read: Prisma.sql`json_build_object(
        'existing', (SELECT ${ORDER_JSON_SQL} FROM orders o WHERE o.location_id = ${locationId}::uuid AND o.dojo_order_id = ${params.dojoOrderId}),
        'clashes', (SELECT json_object_agg(p.payment_intent_id, p.order_id) FROM payments p
                     WHERE p.location_id = ${locationId}::uuid AND p.payment_intent_id = ANY(${intents}::text[])),
        'db_now', now()::timestamptz(3))`,
    };
  }

  async execute(ctx: ExecContext, params: Models.CreateOrderRequest): Promise<Models.Order> {
    const { locationId } = ctx;
    if (!ctx.planned) throw EposError.invalid('dojoOrderId must be a string and payments an array');
    const pre = jsonValue<Pre>(ctx.planned.pre);
    if (pre.existing) {
      ctx.log.info({ orderId: pre.existing.id, dojoOrderId: params.dojoOrderId }, 'order for this dojoOrderId exists; returning it');
      return orderToDojo(orderRowFromJson(pre.existing));
    }
    const id = randomUUID();
    const data = dojoOrderToCreateData(locationId, params, { id, origin: 'dojo', dojoOrderId: params.dojoOrderId });
    const currency = String(data.order.currency);
    const at = new Date();
    const recorded = new Map(Object.entries(pre.clashes ?? {}));
    const payments: OrderWithRelations['payments'] = [];
    for (const [i, p] of (params.payments ?? []).entries()) {
      checkPayment(p, i, currency);
      const paymentIntentId = intentIdOf(params, p, i);
      const clash = recorded.get(paymentIntentId);
      if (clash !== undefined) throw EposError.conflict(`payment intent ${paymentIntentId} is already recorded against order ${clash}`);
      recorded.set(paymentIntentId, id);
      payments.push({
        locationId, paymentIntentId, orderId: id, currency, paidAmount: BigInt(p.paidAmount.value), tipsAmount: BigInt(p.tipsAmount?.value ?? 0),
        lockId: null, state: 'Recorded', intentStatus: null, createdAt: at, updatedAt: at,
      });
    }
    const row = createdRow(data, payments, at, new Date(pre.db_now));
    if (row.paidAmount > row.totalAmount) {
      throw EposError.invalid(`payments add up to ${row.paidAmount} but totalAmount is ${row.totalAmount}`);
    }
    const result = orderToDojo(row);
    const writes = [
      insertOrderCte(row),
      ...(row.items.length ? [insertItemsCte(row)] : []),
      ...(payments.length ? [insertPaymentsCte(payments)] : []),
      ...publishOrderChangeCtes(locationId, id, 'order.created', { orderId: id, dojoOrderId: params.dojoOrderId }),
    ];
    if (ctx.storeResponse) writes.push(ctx.storeResponse('pr', result));
    await runWrites(ctx.db, writes);
    return result;
  }
}

function checkPayment(p: Models.Payment, i: number, currency: string): void {
  if (p.paidAmount.currencyCode !== currency || (p.tipsAmount && p.tipsAmount.currencyCode !== currency)) {
    throw EposError.invalid(`payments[${i}] is not in the order's currency ${currency}`);
  }
  if (p.paidAmount.value < 0 || (p.tipsAmount?.value ?? 0) < 0) throw EposError.invalid(`payments[${i}] has a negative amount`);
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
  const status = (o.status ?? 'New') as OrderWithRelations['status'];
  const initialPayable = o.payable ?? true;
  const payable = isPayable({ status, totalAmount: BigInt(o.totalAmount as bigint), paidAmount: paid });
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
    totalAmount: BigInt(o.totalAmount as bigint),
    serviceChargeAmount: o.serviceChargeAmount === null || o.serviceChargeAmount === undefined ? null : BigInt(o.serviceChargeAmount as bigint),
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

const tsOrNull = (d: Date | null) => (d ? tsParam(d) : Prisma.sql`NULL::timestamptz`);
const jsonbOrNull = (v: unknown) => (v === null || v === undefined ? Prisma.sql`NULL::jsonb` : Prisma.sql`${jsonText(v)}::jsonb`);

function insertOrderCte(r: OrderWithRelations): Prisma.Sql {
  return Prisma.sql`ord AS (INSERT INTO orders (location_id, id, origin, dojo_order_id, reference, display_name, note, status, order_type,
      table_id, waiter_id, party_id, reservation_id, ready_at, collection_asap, collect_at, customer, discounts, tax_lines, currency,
      total_amount, service_charge_amount, paid_amount, tips_amount, payable, version, created_at, updated_at)
    VALUES (${r.locationId}::uuid, ${r.id}, ${r.origin}::"OrderOrigin", ${r.dojoOrderId}, ${r.reference}, ${r.displayName}, ${r.note},
      ${r.status}::"OrderStatus", ${r.orderType}::"OrderType", ${r.tableId}, ${r.waiterId}, ${r.partyId}, ${r.reservationId},
      ${tsOrNull(r.readyAt)}, ${r.collectionAsap}::boolean, ${tsOrNull(r.collectAt)}, ${jsonbOrNull(r.customer)}, ${jsonText(r.discounts)}::jsonb,
      ${jsonText(r.taxLines)}::jsonb, ${r.currency}, ${r.totalAmount.toString()}::bigint,
      ${r.serviceChargeAmount === null ? null : r.serviceChargeAmount.toString()}::bigint, ${r.paidAmount.toString()}::bigint,
      ${r.tipsAmount.toString()}::bigint, ${r.payable}, ${r.version}::int, ${tsParam(r.createdAt)}, ${tsParam(r.updatedAt)}))`;
}

function insertItemsCte(r: OrderWithRelations): Prisma.Sql {
  const rows = r.items.map(
    (it) => Prisma.sql`(${r.locationId}::uuid, ${r.id}, ${it.position}::int, ${it.name}, ${it.plu}, ${it.quantity}::int,
      ${it.amountPerItem.toString()}::bigint, ${it.note}, ${jsonText(it.modifiers)}::jsonb, ${jsonText(it.subItems)}::jsonb)`,
  );
  return Prisma.sql`items AS (INSERT INTO order_items (location_id, order_id, position, name, plu, quantity, amount_per_item, note, modifiers, sub_items)
    VALUES ${Prisma.join(rows, ', ')})`;
}

function insertPaymentsCte(payments: OrderWithRelations['payments']): Prisma.Sql {
  const rows = payments.map(
    (p) => Prisma.sql`(${p.locationId}::uuid, ${p.paymentIntentId}, ${p.orderId}, ${p.currency}, ${p.paidAmount.toString()}::bigint,
      ${p.tipsAmount.toString()}::bigint, ${tsParam(p.createdAt)}, ${tsParam(p.updatedAt)})`,
  );
  return Prisma.sql`pays AS (INSERT INTO payments (location_id, payment_intent_id, order_id, currency, paid_amount, tips_amount, created_at, updated_at)
    VALUES ${Prisma.join(rows, ', ')})`;
}
