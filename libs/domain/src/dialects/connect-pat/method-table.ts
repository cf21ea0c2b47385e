import type { ConnectPat } from '@app/contracts';
import type { MethodEntry } from '../../rpc/dialect';
import { methodEntry as entry } from '../../rpc/dialect';
import { GetTableBillById } from '../../tables/usecases/get-table-bill.usecase';
import { ListPayableTables } from '../../tables/usecases/find-payable-tables.usecase';
import { LockTableOrders } from '../../tables/usecases/lock-table-orders.usecase';
import { RecordPaymentsAtTable } from '../../tables/usecases/record-payments-at-table.usecase';
import { UnlockTableOrders } from '../../tables/usecases/unlock-table-orders.usecase';
import * as pat from './pat.mapping';

const bill = new GetTableBillById();

/**
 * Connect pay at table: wire message -> (mapping, use-case), a table lock held for `lockTtlMs`. The table-level
 * use-cases run the order use-cases (CreateOrderLock, DeleteOrderLock,
 * RecordOrderPayment) on each of the table's orders.
 */
export const connectPatMethods = (lockTtlMs: number): Record<ConnectPat.PatMethod, MethodEntry> => ({
  tableListRequest: entry(pat.tableList, new ListPayableTables()),
  tableLockRequest: entry(pat.tableLock(lockTtlMs), new LockTableOrders()),
  posReceiptRequest: entry(pat.posReceipt, bill),
  transactionResponse: entry(pat.transaction, new RecordPaymentsAtTable()),
  finalPOSReceiptRequest: entry(pat.finalReceipt, bill),
  tableUnlock: entry(pat.tableUnlock, new UnlockTableOrders()),
});
