import type { Models } from '@app/contracts';
import { EposError } from '@app/contracts';
import type { Prisma } from '@app/db';
import { COUNTED_PAYMENT_STATE } from '../core/rules';
import { toJson } from '../shared/venue-feed';

/**
 * Mapping between the database rows of an order (orders + order_items +
 * payments) and Dojo's contract `Order`.
 *
 * - orderToDojo(row): DB -> contract, for every response that carries an Order.
 * - dojoOrderToCreateData(locationId, order, opts): contract -> Prisma create
 *   data for `orders` and `order_items`, used when Dojo creates an order
 *   (CreateOrderV1) and when a venue's POS upserts one of its own orders.
 */

type OrderRow = Prisma.OrderGetPayload<Record<string, never>>;
type OrderItemRow = Prisma.OrderItemGetPayload<Record<string, never>>;
type PaymentRow = Prisma.PaymentGetPayload<Record<string, never>>;

/** An order row with what orderToDojo needs (load it with ORDER_INCLUDE). */
export type OrderWithRelations = OrderRow & { items: OrderItemRow[]; payments: PaymentRow[] };

/** Prisma `include` that loads what orderToDojo reads. */
export const ORDER_INCLUDE = {
  items: { orderBy: { position: 'asc' } },
  payments: { orderBy: { createdAt: 'asc' } },
} as const satisfies Prisma.OrderInclude;

export function money(value: bigint | number, currencyCode: string): Models.Money {
  return { value: typeof value === 'bigint' ? Number(value) : value, currencyCode };
}

const iso = (d: Date) => d.toISOString();

/**
 * Turns an order row (with items and payments) into the contract's Order.
 * Money comes out as {value (minor units), currencyCode}; times as ISO 8601 UTC.
 * `payments` lists the payments that currently count (state Recorded), so
 * their sum is `paidAmount` and the sum of their tips is `tipsAmount`.
 */
export function orderToDojo(row: OrderWithRelations): Models.Order {
  const cur = row.currency;
  const details: Models.OrderDetails =
    row.orderType === 'DineIn'
      ? {
          orderType: 'DineIn',
          dineIn: compact({
            tableId: row.tableId,
            waiterId: row.waiterId,
            partyId: row.partyId,
            reservationId: row.reservationId,
            readyAt: row.readyAt ? iso(row.readyAt) : null,
          }),
        }
      : {
          orderType: 'Collection',
          collection: compact({ asap: row.collectionAsap, collectAt: row.collectAt ? iso(row.collectAt) : null }),
        };
  const order: Models.Order = {
    id: row.id,
    status: row.status,
    details,
    items: row.items.map((it) => ({
      ...compact({ note: it.note }),
      name: it.name,
      plu: it.plu,
      quantity: it.quantity,
      amountPerItem: money(it.amountPerItem, cur),
      modifiers: (it.modifiers ?? []) as unknown as Models.Modifier[],
      subItems: (it.subItems ?? []) as unknown as Models.OrderSubItem[],
    })),
    discounts: (row.discounts ?? []) as unknown as Models.Discount[],
    taxLines: (row.taxLines ?? []) as unknown as Models.TaxLine[],
    totalAmount: money(row.totalAmount, cur),
    paidAmount: money(row.paidAmount, cur),
    tipsAmount: money(row.tipsAmount, cur),
    payments: row.payments
      .filter((p) => p.state === COUNTED_PAYMENT_STATE)
      .map((p) => ({
        paymentIntentId: p.paymentIntentId,
        paidAmount: money(p.paidAmount, p.currency),
        tipsAmount: money(p.tipsAmount, p.currency),
      })),
    payable: row.payable,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
  if (row.serviceChargeAmount !== null) order.serviceChargeAmount = money(row.serviceChargeAmount, cur);
  if (row.note !== null) order.note = row.note;
  if (row.reference !== null) order.reference = row.reference;
  if (row.displayName !== null) order.displayName = row.displayName;
  if (row.customer !== null && typeof row.customer === 'object') order.customer = row.customer as Models.Customer;
  return order;
}

/** The fields of a contract Order (or CreateOrderRequest) that become database rows. */
export interface DojoOrderInput {
  items?: Models.OrderItem[];
  note?: string;
  customer?: Models.Customer;
  discounts?: Models.Discount[];
  taxLines?: Models.TaxLine[];
  status?: Models.OrderStatus;
  totalAmount?: Models.Money;
  serviceChargeAmount?: Models.Money;
  reference?: string;
  displayName?: string;
  payable?: boolean;
  details: Models.OrderDetails;
}

export interface OrderCreateData {
  order: Prisma.OrderUncheckedCreateInput;
  items: Prisma.OrderItemCreateManyInput[];
}

/**
 * Turns a contract Order into Prisma create data for `orders` and
 * `order_items` (positions 0..n-1). paidAmount/tipsAmount are not taken from
 * the input: they follow from the payments table (recomputeOrderPaid).
 * `payable` is taken from the input when given (a POS may mark an order it is
 * editing as not payable), else true. Throws InvalidRequest when the total is
 * missing or an amount is in another currency than the total.
 *
 * @param opts.id the order id Dojo will see (the POS's own id, or one minted for Dojo's orders)
 * @param opts.origin 'pos' for the venue's orders, 'dojo' for CreateOrderV1
 * @param opts.dojoOrderId Dojo's order id, for orders Dojo created
 */
export function dojoOrderToCreateData(
  locationId: string,
  input: DojoOrderInput,
  opts: { id: string; origin?: 'pos' | 'dojo'; dojoOrderId?: string },
): OrderCreateData {
  if (!input.totalAmount) throw EposError.invalid('totalAmount is required');
  const currency = input.totalAmount.currencyCode;
  const sameCurrency = (m: Models.Money | undefined, field: string) => {
    if (m && m.currencyCode !== currency) {
      throw EposError.invalid(`${field} is in ${m.currencyCode} but totalAmount is in ${currency}; use one currency per order`);
    }
  };
  sameCurrency(input.serviceChargeAmount, 'serviceChargeAmount');
  (input.items ?? []).forEach((it, i) => sameCurrency(it.amountPerItem, `items[${i}].amountPerItem`));
  if (!Number.isSafeInteger(input.totalAmount.value) || input.totalAmount.value < 0) {
    throw EposError.invalid('totalAmount.value must be a non-negative integer in minor units');
  }
  const d = input.details;
  const dine = d.dineIn ?? {};
  const col = d.collection ?? {};
  const order: Prisma.OrderUncheckedCreateInput = {
    locationId,
    id: opts.id,
    origin: opts.origin ?? 'pos',
    dojoOrderId: opts.dojoOrderId ?? null,
    reference: input.reference ?? null,
    displayName: input.displayName ?? null,
    note: input.note ?? null,
    status: input.status ?? 'New',
    orderType: d.orderType,
    tableId: d.orderType === 'DineIn' ? (dine.tableId ?? null) : null,
    waiterId: d.orderType === 'DineIn' ? (dine.waiterId ?? null) : null,
    partyId: d.orderType === 'DineIn' ? (dine.partyId ?? null) : null,
    reservationId: d.orderType === 'DineIn' ? (dine.reservationId ?? null) : null,
    readyAt: d.orderType === 'DineIn' && dine.readyAt ? new Date(dine.readyAt) : null,
    collectionAsap: d.orderType === 'Collection' ? (col.asap ?? null) : null,
    collectAt: d.orderType === 'Collection' && col.collectAt ? new Date(col.collectAt) : null,
    customer: input.customer ? toJson(input.customer) : undefined,
    discounts: toJson(input.discounts ?? []),
    taxLines: toJson(input.taxLines ?? []),
    currency,
    totalAmount: BigInt(input.totalAmount.value),
    serviceChargeAmount: input.serviceChargeAmount ? BigInt(input.serviceChargeAmount.value) : null,
    payable: input.payable ?? true,
  };
  const items: Prisma.OrderItemCreateManyInput[] = (input.items ?? []).map((it, position) => ({
    locationId,
    orderId: opts.id,
    position,
    name: it.name,
    plu: it.plu,
    quantity: it.quantity,
    amountPerItem: BigInt(it.amountPerItem.value),
    note: it.note ?? null,
    modifiers: toJson(it.modifiers ?? []),
    subItems: toJson(it.subItems ?? []),
  }));
  return { order, items };
}

function compact<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], null | undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], null | undefined> };
}
