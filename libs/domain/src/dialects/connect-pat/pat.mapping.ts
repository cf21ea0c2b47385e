import type { Logger } from '@app/common';
import type { ConnectPat } from '@app/contracts';
import type {
  FindPayableTables, GetTableBill, LockTable, PayableTables, RecordTablePayments, TableBill, TableLock, TablePaymentsRecorded, TableUnlocked, UnlockTable,
} from '../../core/commands';
import { terminalLockRef, type TerminalLockNames } from '../../core/rules';
import { tableReceipt } from './receipts';

/**
 * Connect pay at table <-> the table-level commands: each message's params
 * (validated at the gateway against libs/contracts connect-pat.ts) to a
 * command, each result to the message's response. Amounts are bigint minor
 * units inside and JSON numbers on the wire.
 */

const SOURCE = 'connect-pat' as const;
type Params = ConnectPat.PatParams;
type Results = ConnectPat.PatResults;

/**
 * How long a table lock lasts by default (CONNECT_PAT_LOCK_TTL_MS). Connect's
 * lock has no expiry on the wire; the terminal unlocks when done. 10 minutes
 * covers a split bill paid card after card with receipts; a lock the terminal
 * never releases (a terminal or link lost mid-payment) frees the table's
 * orders after that. A dropped link does not release it: Connect reconnects
 * and the terminal carries on.
 */
export const CONNECT_PAT_LOCK_TTL_MS = 10 * 60_000;

/** How a Connect terminal's lock on a table is named: per table, and per terminal when the message names it (`tid`). */
function patLockNames(p: { tableId: string; tid?: string | undefined }): TerminalLockNames {
  const unnamed = `${SOURCE}:${p.tableId}`;
  return { prefix: `${unnamed}:`, unnamed, ...(p.tid ? { terminalId: p.tid } : {}) };
}

/** The lock a terminal holds on a table: per table, and per terminal when Connect names it (`tid`). */
export function patLockRef(p: { tableId: string; tid?: string | undefined }): string {
  return terminalLockRef(patLockNames(p));
}

const num = (v: bigint): number => Number(v);

export const tableList = {
  toCommand: (_p: Params['tableListRequest']): FindPayableTables => ({}),
  toWire(r: PayableTables): Results['tableListRequest'] {
    if (r.tables.length === 0) return { tables: [] };
    return { tables: r.tables.map((t) => t.tableId), currency: r.tables[0]!.currency };
  },
};

/** tableLockRequest, its lock held for `lockTtlMs`. */
export const tableLock = (lockTtlMs: number) => ({
  toCommand: (p: Params['tableLockRequest'], now: Date): LockTable => ({
    tableId: p.tableId,
    lockRef: patLockRef(p),
    expiresAt: new Date(now.getTime() + lockTtlMs),
    source: SOURCE,
  }),
  toWire(r: TableLock): Results['tableLockRequest'] {
    if (!r.confirmed || r.currency === null) return { tableId: r.tableId, confirmed: false, userMessage: r.reason ?? 'the table cannot be locked' };
    return { tableId: r.tableId, confirmed: true, amount: num(r.amountDue), currency: r.currency };
  },
});

export const tableUnlock = {
  toCommand: (p: Params['tableUnlock']): UnlockTable => ({ tableId: p.tableId, lockRef: patLockRef(p), terminalLock: patLockNames(p), source: SOURCE }),
  toWire: (r: TableUnlocked): Results['tableUnlock'] => ({ tableId: r.tableId, unlocked: r.orderIds.length > 0 }),
};

export const transaction = {
  /** Only successful payments are recorded (a declined or cancelled one took no money); the payment id is trimmed (the codec refuses a blank one). */
  toCommand(p: Params['transactionResponse']): RecordTablePayments {
    const ok = p.payments.filter((x) => (x.transactionResult ?? 'SUCCESSFUL') === 'SUCCESSFUL');
    const cmd: RecordTablePayments = {
      tableId: p.tableId,
      currency: p.currency,
      payments: ok.map((x) => ({
        paymentRef: x.paymentId.trim(),
        amount: BigInt(x.amountPaid),
        tips: BigInt(x.amountGratuity ?? 0),
        cashback: BigInt(x.amountCashback ?? 0),
      })),
      // With or without tid: a lock held by another terminal, or taken in another dialect, refuses the payments
      // (core/rules isTerminalsLock). A missing tid on the lock or on the payment is not read as another terminal.
      lockRef: patLockRef(p),
      terminalLock: patLockNames(p),
      source: SOURCE,
    };
    return cmd;
  },
  toWire: (r: TablePaymentsRecorded): Results['transactionResponse'] => ({ tableId: r.tableId, recorded: r.recorded, amountDue: num(r.amountDue), currency: r.currency }),
};

const receipt = (kind: 'bill' | 'final') => ({
  toCommand: (p: Params['posReceiptRequest']): GetTableBill => ({ tableId: p.tableId }),
  toWire: (bill: TableBill, log: Logger): Results['posReceiptRequest'] => ({ tableId: bill.tableId, receiptLines: tableReceipt(bill, kind, log) }),
});

export const posReceipt = receipt('bill');
export const finalReceipt = receipt('final');

