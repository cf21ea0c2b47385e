import type { GetSession, Order } from '../../core/commands';
import { DomainRefusal } from '../../core/refusal';
import { isWaiterAllowed } from '../../core/rules';
import { requireOrder } from '../../orders/order-for-change';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * The order of one table session, without its table or covers (GetBillItems: bill lines need neither, so one
 * read instead of three); another waiter's order is refused when waiter ids are enforced.
 */
export class GetTableSessionOrder implements UseCase<GetSession, Order> {
  async execute(ctx: ExecContext, cmd: GetSession): Promise<Order> {
    const order = await requireOrder(ctx, cmd.orderId);
    if (cmd.waiterId !== undefined && !isWaiterAllowed(order.waiterId, cmd.waiterId)) {
      throw DomainRefusal.conflict(`order ${order.id} belongs to another waiter than ${cmd.waiterId}`, 'wrong_waiter');
    }
    return order;
  }
}
