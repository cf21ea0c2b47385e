import type { Models } from '@app/contracts';
import type { FieldError } from '../admin/errors';
import { DomainError } from '../admin/errors';
import { isCurrencyCode } from '../core/rules';
import { check, checkInt4 } from './validation';

type Order = Models.Order;
type Money = { value: number; currencyCode: string };

/**
 * The venue API's checks on an order beyond the contract schema, reported per
 * field: totals and items present, one currency throughout and that an ISO 4217
 * code, positive quantities (of items, sub-items and modifiers), no negative
 * totals, details matching the order type. Rows are then built by the worker's
 * mapper (orders/order-mapper.ts), so the venue API and the JSON-RPC methods
 * store orders the same way (and the core's checkOrderDraft, e.g. at most
 * MAX_ORDER_ITEMS items, holds for both).
 */
export function checkVenueOrder(o: Order): void {
  const fields: FieldError[] = [];
  const total = o.totalAmount;
  check(fields, !!total, 'totalAmount', 'is required');
  check(fields, Array.isArray(o.items), 'items', 'is required');
  const currency = total?.currencyCode ?? '';
  // The others must equal it, so one check of the total's covers every amount.
  if (total) check(fields, isCurrencyCode(currency), 'totalAmount.currencyCode', 'must be an ISO 4217 code such as GBP (three capital letters)');
  const money = (m: Money | undefined, field: string, allowNegative = false) => {
    if (!m) return;
    check(fields, m.currencyCode === currency, `${field}.currencyCode`, `must be the order's currency ${currency}`);
    if (!allowNegative) check(fields, m.value >= 0, `${field}.value`, 'must not be negative');
  };
  const quantity = (q: unknown, field: string) => {
    check(fields, Number.isInteger(q) && (q as number) > 0, field, 'must be a positive integer');
    checkInt4(fields, q, field);
  };
  // A modifier counts like an item: a positive quantity (the contract gives it a quantity, which the schema does not bound).
  const modifier = (m: Models.Modifier, field: string) => {
    quantity(m.quantity, `${field}.quantity`);
    money(m.amountPerModifier, `${field}.amountPerModifier`, true);
  };
  money(total, 'totalAmount');
  money(o.serviceChargeAmount, 'serviceChargeAmount');
  (o.items ?? []).forEach((it, i) => {
    quantity(it.quantity, `items.${i}.quantity`);
    money(it.amountPerItem, `items.${i}.amountPerItem`, true);
    (it.modifiers ?? []).forEach((m, j) => modifier(m, `items.${i}.modifiers.${j}`));
    (it.subItems ?? []).forEach((s, j) => {
      quantity(s.quantity, `items.${i}.subItems.${j}.quantity`);
      money(s.amountPerItem, `items.${i}.subItems.${j}.amountPerItem`, true);
      (s.modifiers ?? []).forEach((m, k) => modifier(m, `items.${i}.subItems.${j}.modifiers.${k}`));
    });
  });
  (o.discounts ?? []).forEach((d, i) => money(d.amountTotal, `discounts.${i}.amountTotal`));
  (o.taxLines ?? []).forEach((t, i) => money(t.amountTotal, `taxLines.${i}.amountTotal`));
  const details = o.details;
  if (details.orderType === 'DineIn') check(fields, !!details.dineIn, 'details.dineIn', 'is required for a DineIn order');
  if (details.orderType === 'Collection') check(fields, !!details.collection, 'details.collection', 'is required for a Collection order');
  if (fields.length) throw DomainError.invalid(fields);
}
