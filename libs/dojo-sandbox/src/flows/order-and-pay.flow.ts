import type { Models } from '@app/contracts';
import { money, StepCheckError } from './flow-context';
import type { FlowDefinition } from './flow-definition';
import { ACCOUNT_PARAM, textParam } from './flow-definition';

type Order = Models.Order;

/** Order and pay: a self-service order created in the EPOS, then paid in full. */
export const orderAndPayFlow: FlowDefinition = {
  name: 'order-and-pay',
  description: 'CreateOrder (collection, one item) then RecordOrderPayment for the full amount',
  headers: { dojoRequestingProduct: 'OrderAndPay', deviceId: 'sandbox-kiosk-1', deviceType: 'Kiosk' },
  params: [
    ACCOUNT_PARAM,
    { name: 'amount', type: 'integer', required: false, description: 'Order total in minor units', default: '1500' },
    { name: 'currency', type: 'string', required: false, description: 'ISO 4217 currency code', default: 'GBP' },
    { name: 'tableId', type: 'string', required: false, description: 'Create a dine-in order at this table instead of a collection order (a table the venue has: another is NotFound)' },
  ],
  async run(ctx, p) {
    const amount = Number(p.amount ?? 1500);
    const currencyCode = textParam(p, 'currency') ?? 'GBP';
    const total = { value: amount, currencyCode };
    const tableId = textParam(p, 'tableId');
    const details = tableId
      ? { orderType: 'DineIn', dineIn: { tableId } }
      : { orderType: 'Collection', collection: { asap: true } };
    const created = await ctx.rpc<Order>({
      method: 'CreateOrderV1',
      params: {
        dojoOrderId: ctx.newId('dord_'),
        items: [{ name: 'Sandbox meal', plu: 'SBX-1', quantity: 1, amountPerItem: total }],
        totalAmount: total,
        payments: [],
        details,
        reference: 'sandbox order',
      },
      summary: (o) => {
        if (!o.id) throw new StepCheckError('the created order has no id');
        if (o.totalAmount?.value !== amount) throw new StepCheckError(`totalAmount is ${money(o.totalAmount)}, expected ${money(total)}`);
        return `created order ${o.id} total ${money(o.totalAmount)}`;
      },
    });
    const orderId = created.id as string;
    await ctx.rpc<Order>({
      method: 'RecordOrderPaymentByIdV1',
      params: { orderId, paymentIntentId: ctx.newId('pi_sandbox_'), paidAmount: total },
      summary: (o) => {
        if (o.id !== orderId) throw new StepCheckError(`paid order ${orderId} but the reply is order ${o.id ?? '(no id)'}`);
        if (typeof o.totalAmount?.value !== 'number') throw new StepCheckError(`order ${orderId} has no totalAmount`);
        if (typeof o.paidAmount?.value !== 'number') throw new StepCheckError(`order ${orderId} has no paidAmount`);
        if (o.paidAmount.value !== o.totalAmount.value) {
          throw new StepCheckError(`paidAmount ${money(o.paidAmount)} does not reach totalAmount ${money(o.totalAmount)}`);
        }
        if (o.payable !== false) throw new StepCheckError(`order ${orderId} is fully paid but payable is ${String(o.payable)}`);
        return `paid ${money(total)}; order ${orderId} fully paid`;
      },
    });
  },
};
