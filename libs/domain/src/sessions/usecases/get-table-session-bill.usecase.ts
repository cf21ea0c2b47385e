import type { Bill, GetSession } from '../../core/commands';
import { GetOrderBillById } from '../../bills/usecases/get-order-bill-by-id.usecase';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { GetTableSessionOrder } from './get-table-session-order.usecase';

/** The bill of a table session (order + the venue's bill template), after GetTableSessionOrder's waiter check. */
export class GetTableSessionBill implements UseCase<GetSession, Bill> {
  private readonly session = new GetTableSessionOrder();
  private readonly bill = new GetOrderBillById();

  async execute(ctx: ExecContext, cmd: GetSession): Promise<Bill> {
    if (cmd.waiterId !== undefined) await this.session.execute(ctx, cmd);
    return this.bill.execute(ctx, { orderId: cmd.orderId });
  }
}
