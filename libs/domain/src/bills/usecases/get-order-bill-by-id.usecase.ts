import type { Bill, GetBill } from '../../core/commands';
import { requireOrder } from '../../orders/order-for-change';
import { billsRepo } from '../../repositories/bills.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * GetBill: the order and the venue's bill template (header and footer lines
 * as stored). Without a template, the venue's name for the dialect's default
 * header. Which stored lines a dialect can show is the dialect's business.
 */
export class GetOrderBillById implements UseCase<GetBill, Bill> {
  async execute(ctx: ExecContext, cmd: GetBill): Promise<Bill> {
    const order = await requireOrder(ctx, cmd.orderId);
    const bills = billsRepo(ctx.db);
    const template = await bills.template(ctx.locationId);
    if (template) {
      const lines = (v: unknown) => (Array.isArray(v) ? v : []);
      return { order, header: lines(template.header), footer: lines(template.footer), venueName: null, hasTemplate: true };
    }
    return { order, header: [], footer: [], venueName: await bills.venueName(ctx.locationId), hasTemplate: false };
  }
}
