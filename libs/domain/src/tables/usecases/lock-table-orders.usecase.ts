import type { LockOrder, LockTable, Order, TableLock } from '../../core/commands';
import { counterSaleLockRefusal, liveLock, outstandingAmount, tableLockKey } from '../../core/rules';
import { CreateOrderLock } from '../../locks/usecases/create-order-lock.usecase';
import { lockedOrderForChange } from '../../orders/order-for-change';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { planNestedChange } from '../../rpc/nested-change';
import { requireTables } from '../table-refs';
import { ordersAtTable } from '../table-orders';

/**
 * LockTable: the order lock of LockOrder (CreateOrderLock, the lock the EPOS
 * Data dialect takes) on every payable order at the table, all or none. Not
 * confirmed (nothing written) when the table has nothing to pay, its orders
 * are in more than one currency, or another live lock holds one of them; the
 * same lockRef again is idempotent. Returns the locked orders and what is
 * outstanding across them. Table changes are serialised per table.
 */
export class LockTableOrders implements UseCase<LockTable, TableLock> {
  private readonly lockOrder = new CreateOrderLock();

  plan(locationId: string, cmd: LockTable): MutationPlan {
    return { advisoryKeys: [tableLockKey(locationId, cmd.tableId)] };
  }

  async execute(ctx: ExecContext, cmd: LockTable): Promise<TableLock> {
    await requireTables(ctx.db, ctx.locationId, [cmd.tableId]);
    const refused = (reason: string): TableLock => ({ tableId: cmd.tableId, confirmed: false, reason, orders: [], amountDue: 0n, currency: null });
    const payable = await ordersAtTable(ctx, cmd.tableId, { payableOnly: true });
    if (payable.length === 0) return refused(`table ${cmd.tableId} has nothing to pay`);
    const currencies = [...new Set(payable.map((o) => o.currency))];
    if (currencies.length > 1) return refused(`table ${cmd.tableId} has orders in ${currencies.join(' and ')}; pay them at the till`);

    // Every order's row lock and current state first, so nothing is written unless all can be locked.
    const staged: { sub: ExecContext; cmd: LockOrder }[] = [];
    for (const o of payable) {
      const lockCmd: LockOrder = { orderId: o.id, lockRef: cmd.lockRef, expiresAt: cmd.expiresAt, source: cmd.source };
      const sub = await planNestedChange(ctx, this.lockOrder, lockCmd);
      const { lock, openCounterSales } = lockedOrderForChange(sub, o.id);
      const live = liveLock(lock, ctx.now);
      if (live && live.lockId !== cmd.lockRef) {
        return refused(`order ${o.id} at table ${cmd.tableId} is locked by another terminal until ${live.expiresAt.toISOString()}`);
      }
      const counterSale = live ? undefined : counterSaleLockRefusal(o.id, openCounterSales);
      if (counterSale) return refused(counterSale);
      staged.push({ sub, cmd: lockCmd });
    }
    const orders: Order[] = [];
    for (const s of staged) orders.push(await this.lockOrder.execute(s.sub, s.cmd));
    const amountDue = orders.reduce((sum, o) => sum + (o.payable ? outstandingAmount(o) : 0n), 0n);
    return { tableId: cmd.tableId, confirmed: true, orders, amountDue, currency: currencies[0]! };
  }
}
