import { DomainRefusal } from '../core/refusal';
import type { ExecContext } from '../rpc/exec-context';
import type { OrderForChange} from '../repositories/orders.repository';
import { ordersRepo, OrdersRepository } from '../repositories/orders.repository';
import type { OrderWithRelations } from './order-mapper';

/**
 * The order under its row lock, as RpcDispatcher read it for the use-case's
 * plan (OrdersRepository.changePlan) once the plan's locks were held: the only
 * way an order change reads its order. NotFound when the order does not exist
 * at this location, or when no plan ran (a plan is made only for a string
 * orderId; the gateway refuses anything else at the edge).
 */
export function lockedOrderForChange(ctx: ExecContext, orderId: string): OrderForChange & { order: OrderWithRelations } {
  const found = ctx.planned ? OrdersRepository.parseChange(ctx.planned.pre) : undefined;
  if (!found?.order) throw DomainRefusal.notFound('order', orderId);
  return found as OrderForChange & { order: OrderWithRelations };
}

/** The order with items and payments (one round trip), or NotFound. Scoped to the location. */
export async function requireOrder(ctx: Pick<ExecContext, 'db' | 'locationId'>, orderId: string): Promise<OrderWithRelations> {
  const order = await ordersRepo(ctx.db).find(ctx.locationId, orderId);
  if (!order) throw DomainRefusal.notFound('order', orderId);
  return order;
}
