import type { Models } from '@app/contracts';
import type { FieldError } from '../admin/errors';
import { DomainError } from '../admin/errors';
import { check, checkInt4 } from './validation';

type Order = Models.Order;
type Money = { value: number; currencyCode: string };

/**
 * The venue API's checks on an order beyond the contract schema, reported per
 * field: totals and items present, one currency throughout and that an ISO 4217
 * code, positive quantities, no negative totals, details matching the order type. Rows are
 * then built by the worker's mapper (orders/order-mapper.ts), so the venue API
 * and the JSON-RPC methods store orders the same way.
 */
export function checkVenueOrder(o: Order): void {
  const fields: FieldError[] = [];
  const total = o.totalAmount;
  check(fields, !!total, 'totalAmount', 'is required');
  check(fields, Array.isArray(o.items), 'items', 'is required');
  const currency = total?.currencyCode ?? '';
  // The others must equal it, so one check of the total's covers every amount.
  if (total) check(fields, /^[A-Z]{3}$/.test(currency), 'totalAmount.currencyCode', 'must be an ISO 4217 code such as GBP (three capital letters)');
  const money = (m: Money | undefined, field: string, allowNegative = false) => {
    if (!m) return;
    check(fields, m.currencyCode === currency, `${field}.currencyCode`, `must be the order's currency ${currency}`);
    if (!allowNegative) check(fields, m.value >= 0, `${field}.value`, 'must not be negative');
  };
  money(total, 'totalAmount');
  money(o.serviceChargeAmount, 'serviceChargeAmount');
  (o.items ?? []).forEach((it, i) => {
    check(fields, Number.isInteger(it.quantity) && it.quantity > 0, `items.${i}.quantity`, 'must be a positive integer');
    checkInt4(fields, it.quantity, `items.${i}.quantity`);
    money(it.amountPerItem, `items.${i}.amountPerItem`, true);
    (it.modifiers ?? []).forEach((m, j) => money(m.amountPerModifier, `items.${i}.modifiers.${j}.amountPerModifier`, true));
    (it.subItems ?? []).forEach((s, j) => {
      check(fields, Number.isInteger(s.quantity) && s.quantity > 0, `items.${i}.subItems.${j}.quantity`, 'must be a positive integer');
      checkInt4(fields, s.quantity, `items.${i}.subItems.${j}.quantity`);
      money(s.amountPerItem, `items.${i}.subItems.${j}.amountPerItem`, true);
      (s.modifiers ?? []).forEach((m, k) => money(m.amountPerModifier, `items.${i}.subItems.${j}.modifiers.${k}.amountPerModifier`, true));
    });
  });
  (o.discounts ?? []).forEach((d, i) => money(d.amountTotal, `discounts.${i}.amountTotal`));
  (o.taxLines ?? []).forEach((t, i) => money(t.amountTotal, `taxLines.${i}.amountTotal`));
  const details = o.details;
  if (details.orderType === 'DineIn') check(fields, !!details.dineIn, 'details.dineIn', 'is required for a DineIn order');
  if (details.orderType === 'Collection') check(fields, !!details.collection, 'details.collection', 'is required for a Collection order');
  if (fields.length) throw DomainError.invalid(fields);
}
