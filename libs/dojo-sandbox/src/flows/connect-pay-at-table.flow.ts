import { ConnectPat } from '@app/contracts';
import type { PatHub } from '../pat-hub';
import type { FlowContext } from './flow-context';
import { StepCheckError } from './flow-context';
import type { FlowDefinition } from './flow-definition';
import { ACCOUNT_PARAM, textParam } from './flow-definition';

const M = ConnectPat.PAT_METHODS;
const TID = 'SBXTID01';

const amount = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

/**
 * One terminal message as a flow step: sent over the account's PAT socket, the
 * reply checked against the codec's result schema (a wrong field fails the step
 * naming the message and the field), then against the flow's expectations.
 */
async function patStep<R>(ctx: FlowContext, pat: PatHub, method: ConnectPat.PatMethod, params: Record<string, unknown>, summary: (r: R) => string, name: string = method): Promise<R> {
  return ctx.task(
    name,
    async () => {
      const reply = await pat.call(ctx.accountId, method, params, { timeoutMs: ctx.deps.callTimeoutMs });
      if (!reply) throw new StepCheckError(`${method} got no reply`);
      if ('error' in reply) {
        const e = ConnectPat.errorMessageSchema.safeParse(reply.error);
        if (!e.success) throw new StepCheckError(`${method} errorMessage breaks the contract: ${ConnectPat.describeIssue(e.error, 'errorMessage')}`);
        throw new StepCheckError(`${method} answered errorMessage ${e.data.code}: ${e.data.message}`);
      }
      const problem = ConnectPat.patResultProblem(method, reply.result);
      if (problem) throw new StepCheckError(`${method} reply breaks the contract: ${problem}`);
      const value = reply.result as R;
      return { value, summary: summary(value) };
    },
    method,
  );
}

/**
 * Connect pay at table: the terminal lists the tables with something to pay,
 * locks one (told the amount due), prints the bill, takes two card payments
 * (the second with a gratuity) and reports them in one transactionResponse,
 * asks for the final receipt when the connection has the flag, and unlocks.
 */
export const connectPayAtTableFlow: FlowDefinition = {
  name: 'connect-pay-at-table',
  description: 'Connect PAT: tableListRequest, tableLockRequest, posReceiptRequest, transactionResponse (2 payments, gratuity), finalPOSReceiptRequest, tableUnlock',
  headers: {},
  params: [
    ACCOUNT_PARAM,
    { name: 'tableId', type: 'string', required: false, description: 'Table to pay (default: the first listed)' },
    { name: 'tipPercent', type: 'integer', required: false, description: 'Gratuity on the second payment, percent of the amount due', default: '10' },
  ],
  async run(ctx, p) {
    const pat = ctx.deps.pat;
    if (!pat?.routed(ctx.accountId)) throw new Error(`no Connect PAT connection for ${ctx.accountId}`);
    const tipPercent = Number(p.tipPercent ?? 10);
    let tableId = textParam(p, 'tableId');

    await patStep<ConnectPat.PatResults['tableListRequest']>(ctx, pat, M.tableList, { tid: TID }, (r) => {
      if (r.tables.length === 0) throw new StepCheckError('no table has anything to pay');
      if (tableId !== undefined && !r.tables.includes(tableId)) throw new StepCheckError(`table ${tableId} is not listed (listed: ${r.tables.join(', ')})`);
      tableId ??= r.tables[0]!;
      return `${r.tables.length} table(s) to pay: ${r.tables.join(', ')}`;
    });
    const table = tableId!;

    const lock = await patStep<ConnectPat.PatResults['tableLockRequest']>(ctx, pat, M.tableLock, { tableId: table, tid: TID }, (r) => {
      if (r.tableId !== table) throw new StepCheckError(`locked table ${table} but the reply names table ${r.tableId}`);
      if (!r.confirmed) throw new StepCheckError(`table ${table} was not locked: ${r.userMessage ?? 'no reason given'}`);
      if (!r.amount) throw new StepCheckError(`table ${table} is locked with nothing to pay`);
      return `locked table ${table}: ${amount(r.amount, r.currency!)} due`;
    });
    const due = lock.amount!;
    const currency = lock.currency!;

    await patStep<ConnectPat.PatResults['posReceiptRequest']>(ctx, pat, M.posReceipt, { tableId: table, tid: TID }, (r) => {
      if (r.receiptLines.length === 0) throw new StepCheckError('the receipt has no lines');
      return `${r.receiptLines.length} receipt lines`;
    });

    const first = Math.floor(due / 2);
    const second = due - first;
    const tip = Math.round((due * tipPercent) / 100);
    const payments = [
      { paymentId: ctx.newId('pat_pay_'), amountPaid: first, currency, transactionResult: 'SUCCESSFUL', cardSchemeName: 'VISA', paymentMethod: 'CONTACTLESS', authCode: '123456', time: new Date().toISOString() },
      { paymentId: ctx.newId('pat_pay_'), amountPaid: second, amountGratuity: tip, currency, transactionResult: 'SUCCESSFUL', cardSchemeName: 'MASTERCARD', paymentMethod: 'ICC_CHIP', authCode: '654321', time: new Date().toISOString() },
    ].filter((x) => x.amountPaid > 0);
    await patStep<ConnectPat.PatResults['transactionResponse']>(
      ctx,
      pat,
      M.transaction,
      { tableId: table, tid: TID, currency, amountPaid: due, amountGratuity: tip, payments },
      (r) => {
        if (r.recorded !== payments.length) throw new StepCheckError(`${payments.length} payments reported but ${r.recorded} recorded`);
        if (r.amountDue !== 0) throw new StepCheckError(`${amount(r.amountDue, r.currency)} still due after paying the table`);
        return `paid ${payments.map((x) => amount(x.amountPaid, currency)).join(' + ')} + gratuity ${amount(tip, currency)}; table fully paid`;
      },
      `transactionResponse (${payments.length} payments)`,
    );

    if (pat.routed(ctx.accountId)?.finalReceipt) {
      await patStep<ConnectPat.PatResults['finalPOSReceiptRequest']>(ctx, pat, M.finalReceipt, { tableId: table, tid: TID }, (r) => {
        if (!r.receiptLines.some((l) => l.value === 'PAID IN FULL')) throw new StepCheckError('the final receipt does not say PAID IN FULL');
        return `${r.receiptLines.length} receipt lines, PAID IN FULL`;
      });
    } else {
      ctx.note('finalPOSReceiptRequest', 'not asked: the connection has no final-pos-receipt-request flag');
    }

    await patStep<ConnectPat.PatResults['tableUnlock']>(ctx, pat, M.tableUnlock, { tableId: table, tid: TID }, (r) => {
      if (!r.unlocked) throw new StepCheckError(`table ${table} was not unlocked`);
      return `unlocked table ${table}`;
    });
  },
};
