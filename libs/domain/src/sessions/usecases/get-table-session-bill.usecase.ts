import type { Bill, GetSession } from '../../core/commands';
import { GetOrderBillById } from '../../bills/usecases/get-order-bill-by-id.usecase';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { GetTableSession } from './get-table-session.usecase';

/** The bill of a table session (order + the venue's bill template), after GetTableSession's waiter check. */
export class GetTableSessionBill implements UseCase<GetSession, Bill> {
  private readonly session = new GetTableSession();
  private readonly bill = new GetOrderBillById();

  async execute(ctx: ExecContext, cmd: GetSession): Promise<Bill> {
    if (cmd.waiterId !== undefined) await this.session.execute(ctx, cmd);
    return this.bill.execute(ctx, { orderId: cmd.orderId });
  }
}
