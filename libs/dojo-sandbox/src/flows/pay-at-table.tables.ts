import { randomUUID } from 'node:crypto';
import type { TablesBill, TableSession, TablesFullBill, TablesTable } from '@app/contracts';
import type { FlowContext } from './flow-context';
import { StepCheckError } from './flow-context';

const pounds = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

/**
 * Pay at table over the legacy Tables API, as Dojo's card machine runs it (protocols.md 1.5): list the table's
 * payable sessions, read the session, then per instalment LockSession -> RecordPayment -> UnlockSession (the
 * second with a tip, one of its ids with the trailing space of Dojo's own example), and print the full bill.
 * `tableName` picks the table by its name; without it, the first occupied table.
 */
export async function runTablesPayAtTable(ctx: FlowContext, p: { tableName?: string; tipPercent: number }): Promise<void> {
  const terminal = { requestorType: 'REQUESTOR_TYPE_CARD_MACHINE', cardMachineRequestorInfo: { terminalId: 'sandbox-terminal-1' } };
  let tableName = p.tableName;
  if (tableName === undefined) {
    const { tables } = await ctx.tablesRpc<{ tables: TablesTable[] }>(
      {
        method: 'ListTables',
        params: { statuses: ['TABLE_STATUS_OCCUPIED'] },
        summary: (r) => {
          if (r.tables.length === 0) throw new StepCheckError('no occupied table');
          return `${r.tables.length} occupied table(s): ${r.tables.map((t) => t.name).join(', ')}`;
        },
      },
      terminal,
    );
    tableName = tables[0]!.name;
  }
  const { sessions } = await ctx.tablesRpc<{ sessions: TableSession[] }>(
    {
      method: 'ListSessions',
      params: { isFinished: false, hasTable: true, isPayable: true, tableNames: [tableName] },
      summary: (r) => {
        if (r.sessions.length === 0) throw new StepCheckError(`no payable session at ${tableName}`);
        const wrong = r.sessions.find((s) => s.tableName !== tableName || !s.isPayable);
        if (wrong) throw new StepCheckError(`session ${wrong.id} is not a payable session at ${tableName}`);
        return `${r.sessions.length} payable session(s) at ${tableName}: ${r.sessions.map((s) => s.name).join(', ')}`;
      },
    },
    terminal,
  );
  const sessionId = sessions[0]!.id;
  await ctx.tablesRpc<{ session: TableSession }>(
    {
      method: 'GetSession',
      params: { sessionId },
      summary: (r) => {
        if (r.session.id !== sessionId) throw new StepCheckError(`asked for session ${sessionId}, got ${r.session.id}`);
        return `session "${r.session.name}" at ${r.session.tableName ?? '(no table)'}`;
      },
    },
    terminal,
  );

  let paid = -1;
  for (let i = 0; i < 2; i++) {
    const { billItems: bill } = await ctx.tablesRpc<{ billItems: TablesBill }>(
      {
        name: `LockSession (${i + 1}/2)`,
        method: 'LockSession',
        params: { sessionId },
        summary: (r) => {
          if (r.billItems.sessionId !== sessionId) throw new StepCheckError(`locked ${sessionId} but the bill is of ${r.billItems.sessionId}`);
          if (paid >= 0 && r.billItems.paidAmount !== paid) throw new StepCheckError(`paidAmount is ${r.billItems.paidAmount}, expected ${paid}`);
          const due = r.billItems.totalAmount - r.billItems.paidAmount;
          if (due <= 0) throw new StepCheckError(`nothing left to pay (total ${r.billItems.totalAmount}, paid ${r.billItems.paidAmount})`);
          return `locked: ${pounds(due, r.billItems.currency)} due of ${pounds(r.billItems.totalAmount, r.billItems.currency)}`;
        },
      },
      terminal,
    );
    const due = bill.totalAmount - bill.paidAmount;
    const amount = i === 0 ? Math.floor(due / 2) : due;
    const tip = i === 0 ? 0 : Math.round((bill.totalAmount * p.tipPercent) / 100);
    const id = randomUUID();
    await ctx.tablesRpc<Record<string, never>>(
      {
        name: `RecordPayment (${i + 1}/2)`,
        method: 'RecordPayment',
        params: {
          payment: {
            // Dojo's own example carries a trailing space on the id; the EPOS trims it.
            id: i === 1 ? `${id} ` : id,
            sessionId,
            baseAmount: amount,
            tipsAmount: tip,
            cashbackAmount: 0,
            currency: bill.currency,
            paymentSuccessful: true,
            attemptedAt: new Date().toISOString(),
            methodDetails: {
              method: 'PAYMENT_METHOD_CARD_PRESENT',
              cardPresentPaymentStatus: 'CARD_PRESENT_PAYMENT_STATUS_SUCCESSFUL',
              cardPresentPaymentInfo: { authCode: '123456', entryMode: 'ENTRY_MODE_CONTACTLESS', card: { scheme: 'CARD_SCHEME_VISA', last4PAN: '4242' } },
            },
          },
        },
        summary: () => `paid ${pounds(amount, bill.currency)}${tip > 0 ? ` + tip ${pounds(tip, bill.currency)}` : ''}`,
      },
      terminal,
    );
    paid = bill.paidAmount + amount;
    await ctx.tablesRpc<Record<string, never>>(
      { name: `UnlockSession (${i + 1}/2)`, method: 'UnlockSession', params: { sessionId }, summary: () => `unlocked session ${sessionId.slice(0, 8)}…` },
      terminal,
    );
  }

  await ctx.tablesRpc<{ fullBill: TablesFullBill }>(
    {
      method: 'GetFullBill',
      params: { sessionId },
      summary: (r) => {
        const b = r.fullBill.billItems;
        if (b.paidAmount !== b.totalAmount) throw new StepCheckError(`paidAmount ${b.paidAmount} does not reach totalAmount ${b.totalAmount}`);
        const lines = (r.fullBill.header?.receiptLines.length ?? 0) + (r.fullBill.footer?.receiptLines.length ?? 0);
        return `full bill: ${b.items.length} line(s), ${lines} receipt line(s), paid ${pounds(b.paidAmount, b.currency)} in full`;
      },
    },
    terminal,
  );
}
