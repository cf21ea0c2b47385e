/**
 * The sandbox's virtual card terminals for Connect pay at counter (/pac): which
 * outcome a transaction has, and the transaction and receipt lines a terminal
 * reports at its end. Shapes are the codec's (libs/contracts/src/connect-pac.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ConnectPac } from '@app/contracts';

/** What a virtual terminal does with a sale or refund. */
export const PAC_OUTCOMES = ['approve', 'decline', 'signature', 'cancel', 'timeout', 'disconnect'] as const;
export type PacOutcome = (typeof PAC_OUTCOMES)[number];

/**
 * Terminals with a fixed outcome, whatever the amount. `VT-CANCEL` waits for a
 * cancelTransaction (or the terminal timeout), `VT-TIMEOUT` is stuck until the
 * terminal timeout and cannot be cancelled, `VT-DISCONNECT` drops the socket
 * that sent the request after the PIN and still approves (duplicate recovers it).
 */
export const PAC_TID_OUTCOMES: Readonly<Record<string, PacOutcome>> = {
  'VT-DECLINE': 'decline',
  'VT-SIGNATURE': 'signature',
  'VT-CANCEL': 'cancel',
  'VT-TIMEOUT': 'timeout',
  'VT-DISCONNECT': 'disconnect',
};

/** On any other terminal, the amount's last two digits (minor units) choose; other endings approve. */
export const PAC_AMOUNT_OUTCOMES: Readonly<Record<string, PacOutcome>> = {
  '00': 'approve',
  '01': 'decline',
  '02': 'signature',
  '03': 'cancel',
  '04': 'timeout',
  '05': 'disconnect',
};

/** The terminals every account has until the control API changes them. */
export const PAC_DEFAULT_TIDS = ['VT-1', 'VT-2', ...Object.keys(PAC_TID_OUTCOMES)];

export function pacOutcome(tid: string, amount: number): PacOutcome {
  return PAC_TID_OUTCOMES[tid] ?? PAC_AMOUNT_OUTCOMES[String(amount % 100).padStart(2, '0')] ?? 'approve';
}

type Line = ConnectPac.TerminalReceiptLine;
const text = (value: string, ...format: ('BOLD' | 'DOUBLE_HEIGHT' | 'DOUBLE_WIDTH')[]): Line => ({ type: 'TEXT', value, ...(format.length ? { format } : {}) });
const money = (minor: number, currency: string) => `${currency} ${(minor / 100).toFixed(2)}`;

export interface PacRun {
  tid: string;
  location: string;
  kind: 'sale' | 'refund';
  currency: string;
  amount: number;
  amountCashback?: number;
  result: ConnectPac.PacTransactionResult;
  verification: 'PIN' | 'SIGNATURE' | 'NONE';
  notifications: string[];
  transactionNumber: number;
  userMessage?: string;
}

/** The terminal's final transaction, as the reply to sale/refund and to a later duplicate. */
export function pacTransaction(r: PacRun): ConnectPac.PacTransaction {
  const ok = r.result === 'SUCCESSFUL';
  const carded = r.result === 'SUCCESSFUL' || r.result === 'DECLINED' || r.result === 'VOID';
  const pan = `************${String(4000 + (r.transactionNumber % 1000)).slice(-4)}`;
  const cashback = r.amountCashback ?? 0;
  const base: ConnectPac.PacTransaction = {
    tid: r.tid,
    transactionType: r.kind === 'sale' ? 'SALE' : 'REFUND',
    transactionResult: r.result,
    currency: r.currency,
    amountBase: r.amount,
    amountCashback: cashback,
    amountGratuity: 0,
    amountTotal: r.amount + cashback,
    transactionId: randomUUID(),
    transactionNumber: String(r.transactionNumber).padStart(6, '0'),
    transactionTime: ConnectPac.connectTimeOf(new Date()),
    notifications: [...r.notifications],
    ...(r.userMessage ? { userMessage: r.userMessage } : {}),
  };
  if (carded) {
    Object.assign(base, {
      cardSchemeName: 'VISA',
      applicationLabel: 'VISA CREDIT',
      applicationId: 'A0000000031010',
      paymentMethod: 'ICC_CHIP',
      cardHolderVerificationMethod: r.verification,
      primaryAccountNumber: pan,
      dateOfExpiry: '12/30',
      ...(ok ? { authCode: String(randomBytes(3).readUIntBE(0, 3) % 1_000_000).padStart(6, '0') } : {}),
    });
  }
  base.receiptLines = { MERCHANT: receipt(r, base, 'MERCHANT'), CUSTOMER: receipt(r, base, 'CUSTOMER') };
  return base;
}

function receipt(r: PacRun, t: ConnectPac.PacTransaction, copy: 'MERCHANT' | 'CUSTOMER'): Line[] {
  const lines: Line[] = [
    text('SANDBOX TERMINAL', 'BOLD', 'DOUBLE_HEIGHT'),
    text(r.location),
    text(`TID ${r.tid}`),
    { type: 'LINE_SEPARATOR_SINGLE' },
    text(r.kind === 'sale' ? 'SALE' : 'REFUND', 'BOLD'),
  ];
  if (t.primaryAccountNumber) lines.push(text(`${t.applicationLabel} ${t.primaryAccountNumber}`), text(`${t.paymentMethod === 'ICC_CHIP' ? 'CHIP' : 'CONTACTLESS'}  AID ${(t as { applicationId?: string }).applicationId ?? ''}`));
  lines.push(text(`AMOUNT ${money(r.amount, r.currency)}`, 'BOLD'));
  if (r.amountCashback) lines.push(text(`CASHBACK ${money(r.amountCashback, r.currency)}`), text(`TOTAL ${money(r.amount + r.amountCashback, r.currency)}`, 'BOLD'));
  lines.push({ type: 'LINE_SEPARATOR_DOUBLE' });
  switch (r.result) {
    case 'SUCCESSFUL':
      lines.push(text(r.verification === 'SIGNATURE' ? 'SIGNATURE VERIFIED' : 'PIN VERIFIED'), text(`AUTH CODE ${t.authCode}`), text('APPROVED', 'BOLD'));
      if (r.verification === 'SIGNATURE' && copy === 'MERCHANT') lines.push({ type: 'CARRIAGE_RETURN' }, text('SIGNATURE ____________________'));
      break;
    case 'DECLINED':
      lines.push({ type: 'BOX_DECLINE', value: 'DECLINED' });
      break;
    case 'VOID':
      lines.push({ type: 'BOX_VOID', value: 'TRANSACTION VOID' }, text('SIGNATURE NOT ACCEPTED'));
      break;
    default:
      lines.push(text(r.result.replace('_', ' '), 'BOLD'));
  }
  lines.push(text(`${t.transactionTime?.replace('T', ' ').slice(0, 19)}  NO ${t.transactionNumber}`), text(`${copy} COPY`), { type: 'TICKET_FEED' });
  return lines;
}
