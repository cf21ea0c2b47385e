import type { Models } from '@app/contracts';
import type { Prisma } from '@app/db';
import type { OrderDraft } from '../core/commands';
import { checkOrderDraft, COUNTED_PAYMENT_STATE, countedAmounts } from '../core/rules';
import { toJson } from '../shared/venue-feed';

/**
 * Mapping between the database rows of an order (orders + order_items +
 * payments) and Dojo's contract `Order`.
 *
 * - orderToDojo(row): DB -> contract, for every response that carries an Order.
 * - orderRowsOf(locationId, draft, opts): an order draft (core/commands, any
 *   channel's new order) -> create data for `orders` and `order_items`, used when
 *   Dojo places an order (CreateOrder) and when a venue's POS upserts one of its own.
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
 * `payments` lists the payments that currently count (state Recorded), each
 * with what it counts (core/rules countedAmounts: net of what was refunded of
 * it), so their sum is `paidAmount` and the sum of their tips is `tipsAmount`.
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
      .map((p) => {
        const counted = countedAmounts(p);
        return { paymentIntentId: p.paymentIntentId, paidAmount: money(counted.paid, p.currency), tipsAmount: money(counted.tips, p.currency) };
      }),
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

export interface OrderCreateData {
  order: Prisma.OrderUncheckedCreateInput;
  items: Prisma.OrderItemCreateManyInput[];
}

/**
 * Turns an order draft into create data for `orders` and `order_items`
 * (positions 0..n-1), after checking its amounts (core/rules checkOrderDraft,
 * which refuses with a DomainRefusal). paidAmount/tipsAmount are not taken
 * from the draft: they follow from the payments. `payable` is the draft's when
 * given (a POS may mark an order it is editing as not payable), else true.
 *
 * @param opts.id the order id Dojo will see (the POS's own id, or one minted for Dojo's orders)
 * @param opts.origin 'pos' for the venue's orders, 'dojo' for orders Dojo placed
 * @param opts.dojoOrderId Dojo's order id, for orders Dojo placed
 */
export function orderRowsOf(
  locationId: string,
  draft: OrderDraft,
  opts: { id: string; origin?: 'pos' | 'dojo'; dojoOrderId?: string },
): OrderCreateData {
  const amounts = checkOrderDraft(draft);
  const d = draft.details;
  const dine = d.orderType === 'DineIn' ? d : undefined;
  const col = d.orderType === 'Collection' ? d : undefined;
  const order: Prisma.OrderUncheckedCreateInput = {
    locationId,
    id: opts.id,
    origin: opts.origin ?? 'pos',
    dojoOrderId: opts.dojoOrderId ?? null,
    reference: draft.reference ?? null,
    displayName: draft.displayName ?? null,
    note: draft.note ?? null,
    status: draft.status ?? 'New',
    orderType: d.orderType,
    tableId: dine?.tableId ?? null,
    waiterId: dine?.waiterId ?? null,
    partyId: dine?.partyId ?? null,
    reservationId: dine?.reservationId ?? null,
    readyAt: dine?.readyAt ?? null,
    collectionAsap: col ? (col.asap ?? null) : null,
    collectAt: col?.collectAt ?? null,
    customer: draft.customer ? toJson(draft.customer) : undefined,
    discounts: toJson(draft.discounts),
    taxLines: toJson(draft.taxLines),
    currency: amounts.currency,
    totalAmount: amounts.totalAmount,
    serviceChargeAmount: amounts.serviceChargeAmount,
    payable: draft.payable ?? true,
  };
  const items: Prisma.OrderItemCreateManyInput[] = draft.lines.map((it, position) => ({
    locationId,
    orderId: opts.id,
    position,
    name: it.name,
    plu: it.plu,
    quantity: it.quantity,
    amountPerItem: BigInt(it.amountPerItem.value),
    note: it.note ?? null,
    modifiers: toJson(it.modifiers),
    subItems: toJson(it.subItems),
  }));
  return { order, items };
}

function compact<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], null | undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], null | undefined> };
}
