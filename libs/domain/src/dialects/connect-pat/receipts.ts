import type { Logger } from '@app/common';
import type { ConnectPat } from '@app/contracts';
import type { Order, TableBill } from '../../core/commands';
import { COUNTED_PAYMENT_STATE, countedAmounts, outstandingAmount } from '../../core/rules';

type Line = ConnectPat.ReceiptLine;
type Format = ConnectPat.ReceiptFormat;

/** Characters per printed line assumed for two-column lines (a terminal's narrow printer). */
const WIDTH = 32;
const SYMBOL: Record<string, string> = { GBP: '£', EUR: '€' };

const text = (value: string, ...format: Format[]): Line => (format.length ? { type: 'TEXT', format, value } : { type: 'TEXT', value });
const money = (minor: bigint, currency: string): string => {
  const neg = minor < 0n;
  const abs = neg ? -minor : minor;
  const s = `${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  return `${neg ? '-' : ''}${SYMBOL[currency] ?? `${currency} `}${s}`;
};
/** `left ... right` on one line of WIDTH characters (the left side cut to fit). */
const columns = (left: string, right: string): string => {
  const room = Math.max(1, WIDTH - right.length - 1);
  const l = left.length > room ? left.slice(0, room) : left;
  return `${l}${' '.repeat(Math.max(1, WIDTH - l.length - right.length))}${right}`;
};

const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * One line of the venue's bill template (stored in EPOS Data's BillLine shape)
 * in Connect's receipt-line vocabulary: text sizes and bold become formats,
 * horizontal lines separators, the logo IMAGE_LOGO, a URL its text; what has
 * no counterpart (an image, alignment) is left out and logged.
 */
function templateLine(raw: unknown, log: Logger, section: string, index: number): Line[] {
  const line = rec(raw);
  switch (line.lineType) {
    case 'MerchantName': {
      const name = str(rec(line.merchantName).name);
      return name ? [text(name, 'BOLD', 'DOUBLE_HEIGHT')] : [];
    }
    case 'MerchantAddress': {
      const a = rec(line.merchantAddress);
      const lines = Array.isArray(a.addressLines) ? a.addressLines.filter((s): s is string => typeof s === 'string' && s.length > 0) : [];
      const postcode = str(a.postcode);
      return [...lines, ...(postcode ? [postcode] : [])].map((s) => text(s));
    }
    case 'MerchantPhoneNumber': {
      const n = str(rec(line.merchantPhoneNumber).phoneNumber);
      return n ? [text(`Tel ${n}`)] : [];
    }
    case 'MerchantEmailAddress': {
      const e = str(rec(line.merchantEmailAddress).emailAddress);
      return e ? [text(e)] : [];
    }
    case 'TaxNumber': {
      const t = rec(line.taxNumber);
      const n = str(t.number);
      return n ? [text(`${str(t.name) ?? 'VAT'} ${n}`)] : [];
    }
    case 'Text': {
      const t = rec(line.text);
      const value = str(t.value);
      if (!value) return [];
      const format: Format[] = [];
      if (t.bold === true) format.push('BOLD');
      if (t.size === 'Header1') format.push('DOUBLE_HEIGHT', 'DOUBLE_WIDTH');
      if (t.size === 'Header2') format.push('DOUBLE_HEIGHT');
      return [text(value, ...format)];
    }
    case 'HorizontalLine':
      return [{ type: rec(line.horizontalLine).line === 'Double' ? 'LINE_SEPARATOR_DOUBLE' : 'LINE_SEPARATOR_SINGLE' }];
    case 'Logo': {
      const svg = str(rec(line.logo).svgImage);
      return svg ? [{ type: 'IMAGE_LOGO', value: svg }] : [];
    }
    case 'URLQR': {
      const u = rec(line.url);
      const url = str(u.url);
      return url ? [...(str(u.description) ? [text(str(u.description)!)] : []), text(url)] : [];
    }
    default:
      log.warn({ section, index, lineType: line.lineType }, 'bill template line has no Connect receipt counterpart; left out');
      return [];
  }
}

function orderLines(o: Order): Line[] {
  const out: Line[] = [];
  let listed = 0n;
  for (const it of o.items) {
    const amount = it.amountPerItem * BigInt(it.quantity);
    listed += amount;
    out.push(text(columns(`${it.quantity} x ${it.name}`, money(amount, o.currency))));
  }
  if (o.serviceChargeAmount !== null && o.serviceChargeAmount !== 0n) {
    listed += o.serviceChargeAmount;
    out.push(text(columns('Service charge', money(o.serviceChargeAmount, o.currency))));
  }
  // Discounts, taxes outside the prices and other adjustments: what makes the lines add up to the order's total.
  const rest = o.totalAmount - listed;
  if (rest !== 0n) out.push(text(columns(rest < 0n ? 'Discounts' : 'Adjustments', money(rest, o.currency))));
  return out;
}

/** An ASCII value a CODE128 barcode can carry. */
const barcodeValue = (v: string): string | undefined => (/^[\x20-\x7e]{1,48}$/.test(v) ? v : undefined);

/**
 * A table's receipt in Connect's receipt lines: the template's header (or the
 * venue's name), the table's open orders line by line, the total, what was
 * paid and what is due (the orders the venue holds included, shown again as
 * to pay at the till); the final receipt adds each payment taken with its
 * gratuity. Then the template's footer, the table id as a CODE128 barcode and
 * a ticket feed.
 */
export function tableReceipt(bill: TableBill, kind: 'bill' | 'final', log: Logger): Line[] {
  const lines: Line[] = [];
  if (bill.hasTemplate) bill.header.forEach((l, i) => lines.push(...templateLine(l, log, 'header', i)));
  else if (bill.venueName) lines.push(text(bill.venueName, 'BOLD', 'DOUBLE_HEIGHT'));
  lines.push({ type: 'LINE_SEPARATOR_SINGLE' }, text(`Table ${bill.tableId}`, 'BOLD'));
  const currency = bill.orders[0]?.currency ?? 'GBP';
  let total = 0n;
  let paid = 0n;
  let due = 0n;
  let held = 0n;
  for (const o of bill.orders) {
    lines.push(...orderLines(o));
    total += o.totalAmount;
    paid += o.paidAmount;
    // Every order on the bill is open, so what is left of it is owed, also when the venue holds it (payable false
    // while its POS edits the bill): the terminal cannot take that part (the lock's amount leaves it out), but the
    // receipt must not call the table paid in full while it is owed. An order paid past a lowered total owes nothing.
    const owed = outstandingAmount(o) > 0n ? outstandingAmount(o) : 0n;
    due += owed;
    if (!o.payable) held += owed;
  }
  lines.push({ type: 'LINE_SEPARATOR_SINGLE' }, text(columns('Total', money(total, currency)), 'BOLD'));
  if (kind === 'final') {
    for (const o of bill.orders) {
      for (const p of o.payments) {
        if (p.state !== COUNTED_PAYMENT_STATE) continue;
        // What the payment counts (net of a partial refund), so the lines add up to Paid.
        const counted = countedAmounts(p);
        lines.push(text(columns('Card payment', money(counted.paid, o.currency))));
        if (counted.tips > 0n) lines.push(text(columns('  Gratuity', money(counted.tips, o.currency))));
      }
    }
  }
  if (paid > 0n) lines.push(text(columns('Paid', money(paid, currency))));
  lines.push(due === 0n && bill.orders.length > 0 ? text('PAID IN FULL', 'BOLD', 'DOUBLE_HEIGHT') : text(columns('Due', money(due, currency)), 'BOLD', 'DOUBLE_HEIGHT'));
  if (held > 0n) lines.push(text(columns('  Pay at the till', money(held, currency))));
  lines.push({ type: 'LINE_SEPARATOR_DOUBLE' });
  if (bill.hasTemplate) bill.footer.forEach((l, i) => lines.push(...templateLine(l, log, 'footer', i)));
  const code = barcodeValue(bill.tableId);
  if (code) lines.push({ type: 'BARCODE_CODE128', value: code });
  lines.push({ type: 'TICKET_FEED' });
  return lines;
}
