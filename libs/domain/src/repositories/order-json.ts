import { Prisma } from '@app/db';
import type { OrderWithRelations } from '../orders/order-mapper';

/**
 * Single-statement reads of orders for the hot paths: one SQL round trip
 * returns an order (or a page of orders) with its items and payments as JSON,
 * which orderRowFromJson turns back into the OrderWithRelations shape that
 * Prisma's `include: ORDER_INCLUDE` gives, so orderToDojo stays the one place
 * that maps an order to the contract.
 *
 * Money and seq travel as text (exact BigInt), times as JSON timestamps.
 */

/** The JSON object orderJsonSql builds (snake_case as in the table). */
export interface OrderJson {
  location_id: string;
  id: string;
  seq: string;
  origin: OrderWithRelations['origin'];
  dojo_order_id: string | null;
  reference: string | null;
  display_name: string | null;
  note: string | null;
  status: OrderWithRelations['status'];
  order_type: OrderWithRelations['orderType'];
  table_id: string | null;
  waiter_id: string | null;
  party_id: string | null;
  reservation_id: string | null;
  ready_at: string | null;
  collection_asap: boolean | null;
  collect_at: string | null;
  customer: unknown;
  discounts: unknown;
  tax_lines: unknown;
  currency: string;
  total_amount: string;
  service_charge_amount: string | null;
  paid_amount: string;
  tips_amount: string;
  payable: boolean;
  version: number;
  created_at: string;
  updated_at: string;
  items: {
    position: number;
    name: string;
    plu: string;
    quantity: number;
    amount_per_item: string;
    note: string | null;
    modifiers: unknown;
    sub_items: unknown;
  }[];
  payments: {
    payment_intent_id: string;
    currency: string;
    paid_amount: string;
    tips_amount: string;
    refunded_amount: string;
    cashback_amount: string;
    lock_id: string | null;
    state: OrderWithRelations['payments'][number]['state'];
    intent_status: string | null;
    created_at: string;
    updated_at: string;
  }[];
}

/**
 * A json expression for the order row aliased `o`, with its items (by
 * position) and payments (by createdAt), as ORDER_INCLUDE loads them.
 */
export const ORDER_JSON_SQL = Prisma.sql`json_build_object(
  'location_id', o.location_id, 'id', o.id, 'seq', o.seq::text, 'origin', o.origin, 'dojo_order_id', o.dojo_order_id,
  'reference', o.reference, 'display_name', o.display_name, 'note', o.note, 'status', o.status, 'order_type', o.order_type,
  'table_id', o.table_id, 'waiter_id', o.waiter_id, 'party_id', o.party_id, 'reservation_id', o.reservation_id,
  'ready_at', o.ready_at, 'collection_asap', o.collection_asap, 'collect_at', o.collect_at, 'customer', o.customer,
  'discounts', o.discounts, 'tax_lines', o.tax_lines, 'currency', o.currency, 'total_amount', o.total_amount::text,
  'service_charge_amount', o.service_charge_amount::text, 'paid_amount', o.paid_amount::text, 'tips_amount', o.tips_amount::text,
  'payable', o.payable, 'version', o.version, 'created_at', o.created_at, 'updated_at', o.updated_at,
  'items', COALESCE((SELECT json_agg(json_build_object(
      'position', i.position, 'name', i.name, 'plu', i.plu, 'quantity', i.quantity, 'amount_per_item', i.amount_per_item::text,
      'note', i.note, 'modifiers', i.modifiers, 'sub_items', i.sub_items) ORDER BY i.position)
    FROM order_items i WHERE i.location_id = o.location_id AND i.order_id = o.id), '[]'::json),
  'payments', COALESCE((SELECT json_agg(json_build_object(
      'payment_intent_id', p.payment_intent_id, 'currency', p.currency, 'paid_amount', p.paid_amount::text,
      'tips_amount', p.tips_amount::text, 'cashback_amount', p.cashback_amount::text, 'refunded_amount', p.refunded_amount::text, 'lock_id', p.lock_id, 'state', p.state, 'intent_status', p.intent_status,
      'created_at', p.created_at, 'updated_at', p.updated_at) ORDER BY p.created_at)
    FROM payments p WHERE p.location_id = o.location_id AND p.order_id = o.id), '[]'::json))`;

/** The order `orderId` of the location as a json scalar subquery (NULL when absent). */
export function orderJsonByIdSql(locationId: string, orderId: string): Prisma.Sql {
  return Prisma.sql`(SELECT ${ORDER_JSON_SQL} FROM orders o WHERE o.location_id = ${locationId}::uuid AND o.id = ${orderId})`;
}

export { jsonValue } from '../shared/json-value';

const date = (s: string) => new Date(s);
const dateOrNull = (s: string | null) => (s === null ? null : new Date(s));

/** The row-shape adapter: OrderJson -> what Prisma returns for an order with ORDER_INCLUDE. */
export function orderRowFromJson(j: OrderJson): OrderWithRelations {
  return {
    locationId: j.location_id,
    id: j.id,
    seq: BigInt(j.seq),
    origin: j.origin,
    dojoOrderId: j.dojo_order_id,
    reference: j.reference,
    displayName: j.display_name,
    note: j.note,
    status: j.status,
    orderType: j.order_type,
    tableId: j.table_id,
    waiterId: j.waiter_id,
    partyId: j.party_id,
    reservationId: j.reservation_id,
    readyAt: dateOrNull(j.ready_at),
    collectionAsap: j.collection_asap,
    collectAt: dateOrNull(j.collect_at),
    customer: j.customer as OrderWithRelations['customer'],
    discounts: j.discounts as OrderWithRelations['discounts'],
    taxLines: j.tax_lines as OrderWithRelations['taxLines'],
    currency: j.currency,
    totalAmount: BigInt(j.total_amount),
    serviceChargeAmount: j.service_charge_amount === null ? null : BigInt(j.service_charge_amount),
    paidAmount: BigInt(j.paid_amount),
    tipsAmount: BigInt(j.tips_amount),
    payable: j.payable,
    version: j.version,
    createdAt: date(j.created_at),
    updatedAt: date(j.updated_at),
    items: j.items.map((it) => ({
      locationId: j.location_id,
      orderId: j.id,
      position: it.position,
      name: it.name,
      plu: it.plu,
      quantity: it.quantity,
      amountPerItem: BigInt(it.amount_per_item),
      note: it.note,
      modifiers: it.modifiers as OrderWithRelations['items'][number]['modifiers'],
      subItems: it.sub_items as OrderWithRelations['items'][number]['subItems'],
    })),
    payments: j.payments.map((p) => ({
      locationId: j.location_id,
      paymentIntentId: p.payment_intent_id,
      orderId: j.id,
      currency: p.currency,
      paidAmount: BigInt(p.paid_amount),
      tipsAmount: BigInt(p.tips_amount),
      refundedAmount: BigInt(p.refunded_amount),
      cashbackAmount: BigInt(p.cashback_amount),
      lockId: p.lock_id,
      state: p.state,
      intentStatus: p.intent_status,
      createdAt: date(p.created_at),
      updatedAt: date(p.updated_at),
    })),
  };
}
