import type { GetOrder, Order } from '../../core/commands';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireOrder } from '../order-for-change';

/** GetOrder: the order with items and payments, or NotFound. */
export class GetOrderById implements UseCase<GetOrder, Order> {
  execute(ctx: ExecContext, cmd: GetOrder): Promise<Order> {
    return requireOrder(ctx, cmd.orderId);
  }
}
