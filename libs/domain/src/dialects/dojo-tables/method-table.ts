import type { TablesAnsweredMethod } from '@app/contracts';
import { CreateOrderLock } from '../../locks/usecases/create-order-lock.usecase';
import { DeleteOrderLock } from '../../locks/usecases/delete-order-lock.usecase';
import { RecordOrderPayment } from '../../payments/usecases/record-order-payment.usecase';
import type { MethodEntry } from '../../rpc/dialect';
import { methodEntry } from '../../rpc/dialect';
import { FindTableSessions } from '../../sessions/usecases/find-table-sessions.usecase';
import { FindTableStatesOfVenue } from '../../sessions/usecases/find-table-states.usecase';
import { GetTableSessionBill } from '../../sessions/usecases/get-table-session-bill.usecase';
import { GetTableSession } from '../../sessions/usecases/get-table-session.usecase';
import { GetTableSessionOrder } from '../../sessions/usecases/get-table-session-order.usecase';
import * as sessions from './sessions.mapping';
import * as tables from './tables.mapping';

const entry = methodEntry;

/**
 * The Tables API: wire method -> (mapping, use-case). Sessions are the venue's
 * orders (at a table, or tabs); locks and payments are the same use-cases EPOS
 * Data's CreateOrderLockV1, DeleteOrderLockV1 and RecordOrderPaymentByIdV1 run.
 * ErrorNotification is not here: the gateway logs it and never answers it.
 */
export function tablesMethods(opts: { lockTtlMs: number }): Record<TablesAnsweredMethod, MethodEntry> {
  return {
    ListSessions: entry(sessions.listSessions, new FindTableSessions()),
    GetSession: entry(sessions.getSession, new GetTableSession()),
    LockSession: entry(sessions.lockSession(opts.lockTtlMs), new CreateOrderLock()),
    UnlockSession: entry(sessions.unlockSession, new DeleteOrderLock()),
    GetBillItems: entry(sessions.getBillItems, new GetTableSessionOrder()),
    GetFullBill: entry(sessions.getFullBill, new GetTableSessionBill()),
    ListBillItems: entry(sessions.listBillItems, new FindTableSessions()),
    GetTable: entry(tables.getTable, new FindTableStatesOfVenue()),
    ListTables: entry(tables.listTables, new FindTableStatesOfVenue()),
    RecordPayment: entry(sessions.recordPayment, new RecordOrderPayment()),
  };
}
