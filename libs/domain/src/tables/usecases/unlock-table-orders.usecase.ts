import type { TableUnlocked, UnlockTable } from '../../core/commands';
import { isTerminalsLock, tableLockKey } from '../../core/rules';
import { DeleteOrderLock } from '../../locks/usecases/delete-order-lock.usecase';
import { ordersRepo } from '../../repositories/orders.repository';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { runNestedChange } from '../../rpc/nested-change';
import { requireTables } from '../table-refs';

/**
 * UnlockTable: UnlockOrder (DeleteOrderLock) on every order at the table held
 * by lockRef, or by a lock the terminal's names cover (core/rules
 * isTerminalsLock), live or expired. A table with no such order answers with
 * none released: unlocking twice is harmless.
 */
export class UnlockTableOrders implements UseCase<UnlockTable, TableUnlocked> {
  private readonly unlockOrder = new DeleteOrderLock();

  plan(locationId: string, cmd: UnlockTable): MutationPlan {
    return { advisoryKeys: [tableLockKey(locationId, cmd.tableId)] };
  }

  async execute(ctx: ExecContext, cmd: UnlockTable): Promise<TableUnlocked> {
    await requireTables(ctx.db, ctx.locationId, [cmd.tableId]);
    const locks = await ordersRepo(ctx.db).locksAtTable(ctx.locationId, cmd.tableId);
    const names = cmd.terminalLock;
    const ids = locks.filter((l) => l.lockId === cmd.lockRef || (names !== undefined && isTerminalsLock(l.lockId, names))).map((l) => l.orderId);
    for (const orderId of ids) {
      await runNestedChange(ctx, this.unlockOrder, { orderId, lockRef: cmd.lockRef, ...(names ? { terminalLock: names } : {}), source: cmd.source });
    }
    return { tableId: cmd.tableId, orderIds: ids };
  }
}
