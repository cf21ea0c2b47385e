import type { Models } from '@app/contracts';
import { clock, money, StepCheckError } from './flow-context';
import { connectPayAtTableFlow } from './connect-pay-at-table.flow';
import type { FlowDefinition } from './flow-definition';
import { ACCOUNT_PARAM, textParam } from './flow-definition';
import { runTablesPayAtTable } from './pay-at-table.tables';

type Order = Models.Order;
type Paged<T> = { data: T[] };

/**
 * Pay at table: find the table's payable orders, fetch the first, lock it, pay it
 * in two parts (the second with a tip) until paidAmount reaches totalAmount, unlock.
 */
export const payAtTableFlow: FlowDefinition = {
  name: 'pay-at-table',
  description:
    'EPOS Data: SearchOrders (tableId, payableOnly), GetOrderById, CreateOrderLock, RecordOrderPayment x2 (split, tip), DeleteOrderLock. ' +
    'Tables API (an account on /ws/v1/tables/epos; tableId is then the table name, the first occupied table by default): ' +
    'ListSessions, GetSession, (LockSession, RecordPayment, UnlockSession) x2 (split, tip), GetFullBill',
  headers: { dojoRequestingProduct: 'PayAtTable', deviceId: 'sandbox-terminal-1', deviceType: 'CardMachine' },
  params: [
    ACCOUNT_PARAM,
    { name: 'tableId', type: 'string', required: false, description: 'Table whose order is paid (Tables API: its name)', default: 'T1' },
    { name: 'lock', type: 'boolean', required: false, description: 'Lock the order while paying', default: 'true' },
    { name: 'tipPercent', type: 'integer', required: false, description: 'Tip on the second payment, percent of the order total', default: '10' },
  ],
  async run(ctx, p) {
    // A location connected over Connect PAT pays at table by table, in Connect's messages.
    if (ctx.deps.pat?.routed(ctx.accountId)) return connectPayAtTableFlow.run(ctx, p);
    if (ctx.deps.hub.protocolOf(ctx.accountId) === 'dojo-tables') {
      const given = textParam(p, 'tableId');
      // The default T1 is an EPOS Data table id; on the Tables API a table is named, so the default picks one.
      await runTablesPayAtTable(ctx, { tableName: given === undefined || given === 'T1' ? undefined : given, tipPercent: Number(p.tipPercent ?? 10) });
      return;
    }
    const tableId = textParam(p, 'tableId') ?? 'T1';
    const useLock = p.lock !== false;
    const tipPercent = Number(p.tipPercent ?? 10);

    const page = await ctx.rpc<Paged<Order>>({
      method: 'SearchOrdersV1',
      params: { dineIn: { tableId }, payableOnly: true },
      summary: (r) => {
        if (r.data.length === 0) throw new StepCheckError(`no payable order at table ${tableId}`);
        // The search asked for this table's payable orders: anything else in the answer is the EPOS's mistake.
        for (const o of r.data) {
          if (!o.id) throw new StepCheckError('an order in the answer has no id');
          const at = o.details?.dineIn?.tableId;
          if (at !== tableId) throw new StepCheckError(`order ${o.id} is ${at ? `at table ${at}` : 'at no table'}, not at table ${tableId}`);
          if (o.payable !== true) throw new StepCheckError(`order ${o.id} is not payable (payable ${String(o.payable)}), though only payable orders were asked for`);
        }
        return `${r.data.length} payable order(s) at table ${tableId}: ${r.data.map((o) => o.id).join(', ')}`;
      },
    });
    const orderId = page.data[0]!.id as string;

    const order = await ctx.rpc<Order>({
      method: 'GetOrderByIdV1',
      params: { orderId },
      summary: (o) => {
        if (o.id !== orderId) throw new StepCheckError(`asked for order ${orderId}, got ${o.id}`);
        if (!o.totalAmount) throw new StepCheckError(`order ${orderId} has no totalAmount`);
        const paid = o.paidAmount?.value ?? 0;
        if (paid >= o.totalAmount.value) throw new StepCheckError(`order ${orderId} is already fully paid (${money(o.paidAmount)})`);
        return `order ${orderId}: total ${money(o.totalAmount)}, paid ${money(o.paidAmount ?? { value: 0, currencyCode: o.totalAmount.currencyCode })}`;
      },
    });
    const total = order.totalAmount!;
    const currency = total.currencyCode;
    const remaining = total.value - (order.paidAmount?.value ?? 0);

    const lockId = ctx.newId('lock_');
    if (useLock) {
      const expiry = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
      await ctx.rpc<Order>({
        method: 'CreateOrderLockV1',
        params: { orderId, lockId, expiry },
        summary: (o) => {
          if (o.id && o.id !== orderId) throw new StepCheckError(`locked order ${orderId} but the reply is order ${o.id}`);
          return `locked order ${orderId} until ${clock(expiry)}`;
        },
      });
    }

    const first = Math.floor(remaining / 2);
    const second = remaining - first;
    const tip = Math.round((total.value * tipPercent) / 100);
    const parts = first > 0 ? [{ amount: first, tip: 0 }, { amount: second, tip }] : [{ amount: second, tip }];
    let paidSoFar = order.paidAmount?.value ?? 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      const params: Record<string, unknown> = {
        orderId,
        paymentIntentId: ctx.newId('pi_sandbox_'),
        paidAmount: { value: part.amount, currencyCode: currency },
      };
      if (part.tip > 0) params.tipsAmount = { value: part.tip, currencyCode: currency };
      if (useLock) params.lockId = lockId;
      await ctx.rpc<Order>({
        name: `RecordOrderPaymentByIdV1 (${i + 1}/${parts.length})`,
        method: 'RecordOrderPaymentByIdV1',
        params,
        summary: (o) => {
          const paid = o.paidAmount?.value;
          const expected = paidSoFar + part.amount;
          if (paid !== expected) throw new StepCheckError(`paidAmount is ${money(o.paidAmount)} after paying ${money({ value: part.amount, currencyCode: currency })}, expected ${money({ value: expected, currencyCode: currency })}`);
          if (last && o.totalAmount && paid !== o.totalAmount.value) {
            throw new StepCheckError(`paidAmount ${money(o.paidAmount)} does not reach totalAmount ${money(o.totalAmount)}`);
          }
          paidSoFar = paid;
          const tipText = part.tip > 0 ? ` + tip ${(part.tip / 100).toFixed(2)}` : '';
          return `paid ${money({ value: part.amount, currencyCode: currency })}${tipText}${last ? '; order fully paid' : ''}`;
        },
      });
    }

    if (useLock) {
      await ctx.rpc<Order>({
        method: 'DeleteOrderLockV1',
        params: { orderId, lockId },
        summary: () => `unlocked order ${orderId}`,
      });
    }
  },
};
