import type { Logger } from '@app/common';
import type {
  TablesBill,
  TablesBillItem,
  TablesFullBill,
  TableSession,
  TablesModifier,
  TablesReceiptLine,
  TablesTable,
  TableStatus,
} from '@app/contracts';
import type { Bill, Order, TableState } from '../../core/commands';
import type { TableOccupancy } from '../../core/rules';
import { isSessionFinished, tableSessionId, waiterNumber } from '../../core/rules';
import type { TableRow } from '../../repositories/tables.repository';

/**
 * The venue's objects in the Tables API's shapes (protocols.md 1.4). Money
 * leaves the core as bigint minor units and goes out as integers; times as
 * ISO 8601 UTC.
 */

const n = (v: bigint | number): number => (typeof v === 'bigint' ? Number(v) : v);

/**
 * A list filter as the Tables API means it: none (absent, null or `[]`, which Dojo's examples send for absent
 * values, e.g. `terminalId: []`) is all (protocols.md 1.3), so only a list with something in it filters.
 */
export function listFilter<T>(values: readonly T[] | null | undefined): T[] | undefined {
  return values != null && values.length > 0 ? [...values] : undefined;
}

interface DojoMoney {
  value?: number;
}
interface DojoModifier {
  name?: string;
  plu?: string;
  quantity?: number;
  amountPerModifier?: DojoMoney;
}
interface DojoSubItem {
  name?: string;
  plu?: string;
  quantity?: number;
  amountPerItem?: DojoMoney;
  modifiers?: DojoModifier[];
}
interface DojoAmountLine {
  name?: string;
  amountTotal?: DojoMoney;
}

const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/**
 * A modifier as the Tables API carries it, on one of its item's units. EPOS Data counts a modifier per single
 * (sub-)item, so one on a sub-item is applied `per` (the sub-item's quantity) times as often to each unit of the item.
 */
function modifier(m: DojoModifier, i: number, per = 1): TablesModifier {
  return { id: m.plu || `m${i + 1}`, name: m.name ?? '', amountPerModifier: m.amountPerModifier?.value ?? 0, quantity: (m.quantity ?? 1) * per };
}

/** Discounts and vouchers as lines with a negative amount, as Dojo's simulator shows them. */
function discountLine(d: DojoAmountLine, i: number, at: string): TablesBillItem {
  return { id: `discount-${i + 1}`, name: d.name ?? 'Discount', category: ['Discount'], quantity: 1, amountPerItem: -Math.abs(d.amountTotal?.value ?? 0), lastOrderedAt: at };
}

/**
 * An order as a Tables Bill: its items (sub-items and modifiers as modifiers, since the Tables API has one level; a
 * sub-item's modifier counted per unit of the item, as its sub-item is),
 * discounts as negative lines, the sum of its tax lines, its service charge and what was paid. Item categories are
 * not kept by the venue API (EPOS Data's order has none), so each item's category is empty.
 */
export function tablesBill(order: Order): TablesBill {
  const at = order.updatedAt.toISOString();
  const items: TablesBillItem[] = order.items.map((it) => {
    const modifiers = [
      ...arr<DojoModifier>(it.modifiers).map((m, i) => modifier(m, i)),
      ...arr<DojoSubItem>(it.subItems).flatMap((sub, i) => [
        { id: sub.plu || `s${i + 1}`, name: sub.name ?? '', amountPerModifier: sub.amountPerItem?.value ?? 0, quantity: sub.quantity ?? 1 },
        ...arr<DojoModifier>(sub.modifiers).map((m, j) => modifier(m, j, sub.quantity ?? 1)),
      ]),
    ];
    return {
      id: String(it.position + 1),
      name: it.name,
      category: [],
      quantity: it.quantity,
      amountPerItem: n(it.amountPerItem),
      lastOrderedAt: order.createdAt.toISOString(),
      ...(modifiers.length ? { modifiers } : {}),
    };
  });
  items.push(...arr<DojoAmountLine>(order.discounts).map((d, i) => discountLine(d, i, at)));
  const taxAmount = arr<DojoAmountLine>(order.taxLines).reduce((sum, t) => sum + (t.amountTotal?.value ?? 0), 0);
  return {
    totalAmount: n(order.totalAmount),
    serviceCharge: n(order.serviceChargeAmount ?? 0n),
    taxAmount,
    paidAmount: n(order.paidAmount),
    currency: order.currency,
    items,
    ...(order.note ? { note: order.note } : {}),
    sessionId: tableSessionId(order.locationId, order.id),
  };
}

/**
 * A waiter id as the Tables API carries it, an integer: the venue's id in digits as its value ("001" is 1, core/rules
 * waiterNumber); the venue's other ids ("w-amy") cannot be carried and are left out.
 */
export function tablesWaiterId(waiterId: string | null): number | undefined {
  return waiterId !== null ? waiterNumber(waiterId) : undefined;
}

/** An order as a TableSession: stable UUID id, the table's name, its party's covers, finishedAt only once it is closed. */
export function tableSession(order: Order, table: TableRow | null, covers: number | null = null): TableSession {
  const finished = isSessionFinished(order);
  const waiter = tablesWaiterId(order.waiterId);
  return {
    id: tableSessionId(order.locationId, order.id),
    name: order.displayName ?? order.reference ?? order.id,
    ...(table ? { tableName: table.name } : {}),
    ...(waiter !== undefined ? { waiter: { id: waiter } } : {}),
    ...(covers !== null ? { numberOfCovers: covers } : {}),
    createdAt: order.createdAt.toISOString(),
    ...(finished ? { finishedAt: order.updatedAt.toISOString() } : {}),
    isPayable: order.payable && !finished,
  };
}

const STATUS: Record<TableOccupancy, TableStatus> = {
  not_in_use: 'TABLE_STATUS_NOT_IN_USE',
  available: 'TABLE_STATUS_AVAILABLE',
  pending_available: 'TABLE_STATUS_PENDING_AVAILABLE',
  occupied: 'TABLE_STATUS_OCCUPIED',
};
const OCCUPANCY = Object.fromEntries(Object.entries(STATUS).map(([k, v]) => [v, k])) as Record<TableStatus, TableOccupancy>;

export const occupancyOf = (status: TableStatus): TableOccupancy => OCCUPANCY[status];

/** A table as the Tables API shows it: name, maxCovers (0 when the venue has not set it), status from its open orders. */
export function tablesTable(s: TableState): TablesTable {
  return { name: s.table.name, maxCovers: s.table.maxCovers ?? 0, status: STATUS[s.occupancy] };
}

// ---- receipts: the venue's bill template (EPOS Data BillLine shapes) as Tables receipt lines ----

interface BillLineIn {
  lineType?: string;
  text?: { value?: string; size?: string; align?: string; bold?: boolean };
  logo?: { svgImage?: string };
  merchantName?: { name?: string };
  merchantAddress?: { addressLines?: string[]; postcode?: string };
  merchantPhoneNumber?: { phoneNumber?: string };
  merchantEmailAddress?: { emailAddress?: string };
  horizontalLine?: { line?: string };
  taxNumber?: { name?: string; number?: string };
}

const SIZES = { Body: 'SIZE_BODY', Header1: 'SIZE_HEADER_1', Header2: 'SIZE_HEADER_2' } as const;
const ALIGNS = { Left: 'ALIGN_LEFT', Center: 'ALIGN_CENTER', Right: 'ALIGN_RIGHT' } as const;

function receiptLine(l: BillLineIn): TablesReceiptLine | undefined {
  switch (l.lineType) {
    case 'Text':
      if (typeof l.text?.value !== 'string') return undefined;
      return {
        receiptLineType: 'RECEIPT_LINE_TYPE_TEXT',
        receiptText: {
          value: l.text.value,
          size: SIZES[(l.text.size ?? 'Body') as keyof typeof SIZES] ?? 'SIZE_BODY',
          ...(l.text.align && l.text.align in ALIGNS ? { align: ALIGNS[l.text.align as keyof typeof ALIGNS] } : {}),
          ...(l.text.bold ? { emphasisBold: true } : {}),
        },
      };
    case 'Logo':
      return l.logo?.svgImage ? { receiptLineType: 'RECEIPT_LINE_TYPE_LOGO', receiptLogo: { svgImage: l.logo.svgImage } } : undefined;
    case 'MerchantName':
      return l.merchantName?.name ? { receiptLineType: 'RECEIPT_LINE_TYPE_MERCHANT_NAME', receiptMerchantName: { merchantName: l.merchantName.name } } : undefined;
    case 'MerchantAddress':
      return l.merchantAddress?.addressLines
        ? {
            receiptLineType: 'RECEIPT_LINE_TYPE_MERCHANT_ADDRESS',
            receiptMerchantAddress: { addressLines: l.merchantAddress.addressLines, postcode: l.merchantAddress.postcode ?? '' },
          }
        : undefined;
    case 'MerchantPhoneNumber':
      return l.merchantPhoneNumber?.phoneNumber
        ? { receiptLineType: 'RECEIPT_LINE_TYPE_MERCHANT_PHONE_NUMBER', receiptMerchantPhoneNumber: { phoneNumber: l.merchantPhoneNumber.phoneNumber } }
        : undefined;
    case 'MerchantEmailAddress':
      return l.merchantEmailAddress?.emailAddress
        ? { receiptLineType: 'RECEIPT_LINE_TYPE_MERCHANT_EMAIL_ADDRESS', receiptMerchantEmailAddress: { emailAddress: l.merchantEmailAddress.emailAddress } }
        : undefined;
    case 'HorizontalLine':
      return {
        receiptLineType: 'RECEIPT_LINE_TYPE_HORIZONTAL_LINE',
        receiptHorizontalLine: { type: l.horizontalLine?.line === 'Double' ? 'HORIZONTAL_LINE_DOUBLE' : 'HORIZONTAL_LINE_SINGLE' },
      };
    case 'TaxNumber':
      return l.taxNumber?.number ? { receiptLineType: 'RECEIPT_LINE_TYPE_VAT_NUMBER', receiptVATNumber: { vatNumber: l.taxNumber.number } } : undefined;
    default:
      // Image and URL lines: the Tables API has no line type for them (Dojo's SDK labels them TEXT, unverified on the wire).
      return undefined;
  }
}

function receiptLines(raw: unknown[], section: string, log: Logger): TablesReceiptLine[] {
  const out: TablesReceiptLine[] = [];
  raw.forEach((line, index) => {
    const r = typeof line === 'object' && line !== null ? receiptLine(line) : undefined;
    if (r) out.push(r);
    else log.info({ section, index, lineType: (line as BillLineIn | null)?.lineType }, 'bill template line has no Tables receipt line; left out');
  });
  return out;
}

/** GetFullBill: the bill framed by the template's header and footer; no template: the venue's name as the header. */
export function tablesFullBill(bill: Bill, log: Logger): TablesFullBill {
  const header = bill.hasTemplate
    ? receiptLines(bill.header, 'header', log)
    : bill.venueName !== null
      ? [{ receiptLineType: 'RECEIPT_LINE_TYPE_MERCHANT_NAME' as const, receiptMerchantName: { merchantName: bill.venueName } }]
      : [];
  const footer = bill.hasTemplate ? receiptLines(bill.footer, 'footer', log) : [];
  return {
    ...(header.length ? { header: { receiptLines: header } } : {}),
    billItems: tablesBill(bill.order),
    ...(footer.length ? { footer: { receiptLines: footer } } : {}),
  };
}
