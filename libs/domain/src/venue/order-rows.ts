import type { Models } from '@app/contracts';
import { DomainError, FieldError } from '../admin/errors';
import { check } from './validation';

type Order = Models.Order;
type Money = { value: number; currencyCode: string };

/**
 * Contract Order -> rows of `orders` and `order_items` for the venue API.
 * NOTE: written against schema.prisma directly because the worker's order
 * mapper (libs/domain/src/orders/order-mapper.ts) did not exist yet; to be
 * unified with it. paidAmount, tipsAmount and payments are not taken from the
 * venue: they follow the payments Dojo records.
 */
export interface OrderRows {
  order: {
    status: Order['status'];
    orderType: 'DineIn' | 'Collection';
    reference: string | null;
    displayName: string | null;
    note: string | null;
    tableId: string | null;
    waiterId: string | null;
    partyId: string | null;
    reservationId: string | null;
    readyAt: Date | null;
    collectionAsap: boolean | null;
    collectAt: Date | null;
    customer: unknown;
    discounts: unknown[];
    taxLines: unknown[];
    currency: string;
    totalAmount: bigint;
    serviceChargeAmount: bigint | null;
    payable: boolean;
  };
  items: {
    position: number;
    name: string;
    plu: string;
    quantity: number;
    amountPerItem: bigint;
    note: string | null;
    modifiers: unknown[];
    subItems: unknown[];
  }[];
}

const TERMINAL = new Set(['Canceled', 'Finalized', 'Failed']);

/** Checks beyond the schema (totals present, one currency, positive quantities) and maps the order to rows. */
export function orderToRows(o: Order): OrderRows {
  const fields: FieldError[] = [];
  const total = o.totalAmount as Money | undefined;
  check(fields, !!total, 'totalAmount', 'is required');
  check(fields, Array.isArray(o.items), 'items', 'is required');
  const currency = total?.currencyCode ?? '';
  const money = (m: Money | undefined, field: string, allowNegative = false) => {
    if (!m) return;
    check(fields, m.currencyCode === currency, `${field}.currencyCode`, `must be the order's currency ${currency}`);
    if (!allowNegative) check(fields, m.value >= 0, `${field}.value`, 'must not be negative');
  };
  money(total, 'totalAmount');
  money(o.serviceChargeAmount as Money | undefined, 'serviceChargeAmount');
  (o.items ?? []).forEach((it, i) => {
    check(fields, Number.isInteger(it.quantity) && it.quantity > 0, `items.${i}.quantity`, 'must be a positive integer');
    money(it.amountPerItem as Money, `items.${i}.amountPerItem`, true);
    (it.modifiers ?? []).forEach((m, j) => money(m.amountPerModifier as Money, `items.${i}.modifiers.${j}.amountPerModifier`, true));
    (it.subItems ?? []).forEach((s, j) => {
      check(fields, Number.isInteger(s.quantity) && s.quantity > 0, `items.${i}.subItems.${j}.quantity`, 'must be a positive integer');
      money(s.amountPerItem as Money, `items.${i}.subItems.${j}.amountPerItem`, true);
      (s.modifiers ?? []).forEach((m, k) => money(m.amountPerModifier as Money, `items.${i}.subItems.${j}.modifiers.${k}.amountPerModifier`, true));
    });
  });
  (o.discounts ?? []).forEach((d, i) => money(d.amountTotal as Money, `discounts.${i}.amountTotal`));
  (o.taxLines ?? []).forEach((t, i) => money(t.amountTotal as Money, `taxLines.${i}.amountTotal`));
  const details = o.details;
  if (details.orderType === 'DineIn') check(fields, !!details.dineIn, 'details.dineIn', 'is required for a DineIn order');
  if (details.orderType === 'Collection') check(fields, !!details.collection, 'details.collection', 'is required for a Collection order');
  if (fields.length) throw DomainError.invalid(fields);

  const dineIn = details.orderType === 'DineIn' ? details.dineIn : undefined;
  const collection = details.orderType === 'Collection' ? details.collection : undefined;
  return {
    order: {
      status: o.status,
      orderType: details.orderType as 'DineIn' | 'Collection',
      reference: o.reference ?? null,
      displayName: o.displayName ?? null,
      note: o.note ?? null,
      tableId: dineIn?.tableId ?? null,
      waiterId: dineIn?.waiterId ?? null,
      partyId: dineIn?.partyId ?? null,
      reservationId: dineIn?.reservationId ?? null,
      readyAt: dineIn?.readyAt ? new Date(dineIn.readyAt) : null,
      collectionAsap: collection?.asap ?? null,
      collectAt: collection?.collectAt ? new Date(collection.collectAt) : null,
      customer: o.customer ?? null,
      discounts: o.discounts ?? [],
      taxLines: o.taxLines ?? [],
      currency,
      totalAmount: BigInt(total!.value),
      serviceChargeAmount: o.serviceChargeAmount ? BigInt((o.serviceChargeAmount as Money).value) : null,
      payable: (o.payable ?? true) && !TERMINAL.has(o.status),
    },
    items: (o.items ?? []).map((it, position) => ({
      position,
      name: it.name,
      plu: it.plu,
      quantity: it.quantity,
      amountPerItem: BigInt((it.amountPerItem as Money).value),
      note: it.note ?? null,
      modifiers: it.modifiers ?? [],
      subItems: it.subItems ?? [],
    })),
  };
}
