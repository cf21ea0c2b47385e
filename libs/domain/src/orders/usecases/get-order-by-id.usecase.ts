import type { Models } from '@app/contracts';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { orderToDojo } from '../order-mapper';
import { requireOrder } from '../order-for-change';

/** GetOrderByIdV1. */
export class GetOrderById implements UseCase<Models.OrderId, Models.Order> {
  async execute(ctx: ExecContext, params: Models.OrderId): Promise<Models.Order> {
    return orderToDojo(await requireOrder(ctx, params.orderId));
  }
}
