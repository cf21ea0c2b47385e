import type { Logger } from '@app/common';
import type { Models } from '@app/contracts';
import { contractValidator, EposError } from '@app/contracts';
import type {
  Bill, CancelOrder, ExtendLock, FindOrders, FoundOrders, GetBill, GetOrder, Lock, LockOrder, Order, OrderDraft, PlaceOrder, RecordPayment, StatedAmount, UnlockOrder,
} from '../../core/commands';
import { isValidLockExpiry, isValidMinorAmount } from '../../core/rules';
import type { OrderCreateData } from '../../orders/order-mapper';
import { orderRowsOf, orderToDojo } from '../../orders/order-mapper';
import { decodeSeqCursor, encodeCursor, pageRequest } from '../../rpc/cursor';

/**
 * EPOS Data (Dojo's JSON-RPC API) <-> the order/lock/payment core: each wire
 * method's params to a command, each domain result to the wire response.
 * Wire-level checks (field names in messages, cursors) live here; the rules
 * live in core/rules. `now` is the request's clock.
 */

const SOURCE = 'epos-data' as const;

/** A string id the core can look up; anything else is no such order (the gateway refuses it at the edge). */
function orderIdOf(params: { orderId?: unknown } | undefined): string {
  const id = params?.orderId;
  if (typeof id !== 'string') throw EposError.notFound('order', id as string);
  return id;
}

/** Parses the wire's expiry and refuses one that is not in the future (core/rules isValidLockExpiry). */
function expiryOf(expiry: string, now: Date): Date {
  const at = new Date(expiry);
  if (Number.isNaN(at.getTime())) throw EposError.invalid(`expiry ${JSON.stringify(expiry)} is not an ISO 8601 date-time`);
  if (!isValidLockExpiry(at, now)) {
    throw EposError.invalid(`expiry ${expiry} is not in the future (EPOS time ${now.toISOString()}); send a later expiry`);
  }
  return at;
}

export const getOrder = {
  toCommand: (p: Models.OrderId): GetOrder => ({ orderId: p.orderId }),
  toWire: (o: Order): Models.Order => orderToDojo(o),
};

export const searchOrders = {
  toCommand(p: Models.SearchOrdersRequest): FindOrders {
    const page = pageRequest(p.cursor, (c, f) => decodeSeqCursor('o', c, f));
    const dine = p.dineIn ?? {};
    return {
      filter: { tableId: dine.tableId, waiterId: dine.waiterId, partyId: dine.partyId, reservationId: dine.reservationId, payableOnly: p.payableOnly },
      page: { limit: page.limit, after: page.after, before: page.before },
    };
  },
  toWire(found: FoundOrders): Models.PagedOrdersResponse {
    const { orders } = found;
    const result: Models.PagedOrdersResponse = { data: orders.map((o) => orderToDojo(o)) };
    if (orders.length > 0 && found.hasBefore) result.before = encodeCursor('o', orders[0]!.seq);
    if (orders.length > 0 && found.hasAfter) result.after = encodeCursor('o', orders[orders.length - 1]!.seq);
    return result;
  },
};

export const cancelOrder = {
  toCommand: (p: Models.OrderId): CancelOrder => ({ orderId: orderIdOf(p), source: SOURCE }),
  toWire: (o: Order): Models.Order => orderToDojo(o),
};

/** The fields of a contract Order (or CreateOrderRequest) that describe a new order. */
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

const stated = (m: Models.Money): StatedAmount => ({ value: m.value, currency: m.currencyCode });

/**
 * Dojo's Order shape -> the core's order draft, unchecked (the core checks its
 * amounts when it creates the order). The venue API takes the same shape for a
 * POS's own orders and uses this too.
 */
export function orderDraftOf(input: DojoOrderInput): OrderDraft {
  const d = input.details;
  const dine = d.dineIn ?? {};
  const col = d.collection ?? {};
  const draft: OrderDraft = {
    details:
      d.orderType === 'DineIn'
        ? {
            orderType: 'DineIn',
            tableId: dine.tableId,
            waiterId: dine.waiterId,
            partyId: dine.partyId,
            reservationId: dine.reservationId,
            readyAt: dine.readyAt ? new Date(dine.readyAt) : undefined,
          }
        : { orderType: 'Collection', asap: col.asap, collectAt: col.collectAt ? new Date(col.collectAt) : undefined },
    status: input.status,
    lines: (input.items ?? []).map((it) => ({
      name: it.name,
      plu: it.plu,
      quantity: it.quantity,
      amountPerItem: stated(it.amountPerItem),
      note: it.note,
      modifiers: it.modifiers ?? [],
      subItems: it.subItems ?? [],
    })),
    discounts: input.discounts ?? [],
    taxLines: input.taxLines ?? [],
    totalAmount: input.totalAmount ? stated(input.totalAmount) : undefined,
    serviceChargeAmount: input.serviceChargeAmount ? stated(input.serviceChargeAmount) : undefined,
    note: input.note,
    reference: input.reference,
    displayName: input.displayName,
    customer: input.customer as Record<string, unknown> | undefined,
    payable: input.payable,
  };
  return draft;
}

/** Dojo's Order shape -> checked rows (the venue API's upsert, the demo venue and test fixtures). Refuses with a DomainRefusal. */
export function dojoOrderToCreateData(
  locationId: string,
  input: DojoOrderInput,
  opts: { id: string; origin?: 'pos' | 'dojo'; dojoOrderId?: string },
): OrderCreateData {
  return orderRowsOf(locationId, orderDraftOf(input), opts);
}

/**
 * CreateOrderV1 -> PlaceOrder. A payment without a paymentIntentId is given
 * `<dojoOrderId>#<index>` as its reference, so a repeat of the request names it
 * again. Nothing here refuses the order's contents: the core checks them after
 * it has looked for the order this dojoOrderId already placed.
 */
export const placeOrder = {
  toCommand(p: Models.CreateOrderRequest): PlaceOrder {
    if (typeof p?.dojoOrderId !== 'string' || (p.payments !== undefined && !Array.isArray(p.payments))) {
      throw EposError.invalid('dojoOrderId must be a string and payments an array');
    }
    return {
      dojoOrderId: p.dojoOrderId,
      draft: orderDraftOf(p),
      payments: (p.payments ?? []).map((pay, i) => ({
        paymentRef: pay.paymentIntentId ?? `${p.dojoOrderId}#${i}`,
        amount: stated(pay.paidAmount),
        tips: pay.tipsAmount ? stated(pay.tipsAmount) : undefined,
      })),
      source: SOURCE,
    };
  },
  toWire: (o: Order): Models.Order => orderToDojo(o),
};

export const lockOrder = {
  toCommand(p: Models.CreateOrderLockRequest, now: Date): LockOrder {
    const expiresAt = expiryOf(p.expiry, now);
    return { orderId: orderIdOf(p), lockRef: p.lockId, expiresAt, source: SOURCE };
  },
  toWire: (o: Order): Models.Order => orderToDojo(o),
};

export const unlockOrder = {
  toCommand: (p: Models.DeleteOrderLockRequest): UnlockOrder => ({ orderId: orderIdOf(p), lockRef: p.lockId, source: SOURCE }),
  toWire: (o: Order): Models.Order => orderToDojo(o),
};

export const extendLock = {
  toCommand(p: Models.ExtendOrderLockRequest, now: Date): ExtendLock {
    const expiresAt = expiryOf(p.expiry, now);
    return { orderId: orderIdOf(p), lockRef: p.lockId, expiresAt, source: SOURCE };
  },
  toWire: (_l: Lock): Record<string, never> => ({}),
};

export const recordPayment = {
  toCommand(p: Models.RecordOrderPaymentRequest): RecordPayment {
    const paid = p.paidAmount;
    const tips = p.tipsAmount;
    if (!isValidMinorAmount(paid.value)) throw EposError.invalid('paidAmount.value must be a non-negative integer in minor units');
    if (tips && !isValidMinorAmount(tips.value)) throw EposError.invalid('tipsAmount.value must be a non-negative integer in minor units');
    const orderId = orderIdOf(p);
    if (typeof p.paymentIntentId !== 'string') throw EposError.notFound('order', orderId);
    return {
      orderId,
      paymentRef: p.paymentIntentId,
      amount: BigInt(paid.value),
      tips: BigInt(tips?.value ?? 0),
      currency: paid.currencyCode,
      tipsCurrency: tips?.currencyCode,
      lockRef: p.lockId,
      source: SOURCE,
    };
  },
  toWire: (o: Order): Models.Order => orderToDojo(o),
};

export const getBill = {
  toCommand: (p: Models.OrderId): GetBill => ({ orderId: p.orderId }),
  /** The order framed by the template's lines that fit the contract (others are logged and left out); no template: the venue's name. */
  toWire(bill: Bill, log: Logger): Models.OrderBill {
    let header: Models.BillLine[];
    let footer: Models.BillLine[];
    if (bill.hasTemplate) {
      header = validLines(log, bill.header, 'header');
      footer = validLines(log, bill.footer, 'footer');
    } else {
      header = bill.venueName !== null ? [{ lineType: 'MerchantName', merchantName: { name: bill.venueName } }] : [];
      footer = [];
    }
    return { header: { lines: header }, order: orderToDojo(bill.order), footer: { lines: footer } };
  },
};

function validLines(log: Logger, raw: unknown[], section: string): Models.BillLine[] {
  const v = contractValidator();
  const out: Models.BillLine[] = [];
  raw.forEach((line, i) => {
    const res = v.validateSchema('BillLine', line);
    if (res.ok) out.push(line as Models.BillLine);
    else log.warn({ section, index: i, field: res.field, reason: res.reason }, 'bill template line does not fit the contract; left out');
  });
  return out;
}
