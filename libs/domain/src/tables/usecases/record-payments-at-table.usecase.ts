import type { RecordPayment, RecordTablePayments, TablePaymentsRecorded } from '../../core/commands';
import { DomainRefusal } from '../../core/refusal';
import { allocateTablePayment, isTablePaymentPart, paymentIntentLockKey, tableAmountDue, tableLockKey } from '../../core/rules';
import { RecordOrderPayment } from '../../payments/usecases/record-order-payment.usecase';
import { ordersRepo } from '../../repositories/orders.repository';
import type { ExecContext, MutationPlan, UseCase } from '../../rpc/exec-context';
import { runNestedChange } from '../../rpc/nested-change';
import { requireTables } from '../table-refs';
import { tableDues } from '../table-orders';

/**
 * RecordTablePayments: each payment taken against the table is split over the
 * table's payable orders by core/rules allocateTablePayment (oldest first,
 * never overpaying an order nor taking what a counter sale still running
 * against it may take: tableDues; tips and cashback with the first part) and each
 * part recorded through RecordPayment (RecordOrderPayment: the venue feed and
 * the POS event as for any payment). Idempotent on the payment id: a payment
 * whose parts are already recorded with the same amounts is not recorded
 * again (and not counted in `recorded`); with other amounts it is Conflict.
 * All or nothing: a refused payment refuses the whole message.
 */
export class RecordPaymentsAtTable implements UseCase<RecordTablePayments, TablePaymentsRecorded> {
  private readonly recordPayment = new RecordOrderPayment();

  plan(locationId: string, cmd: RecordTablePayments): MutationPlan {
    const refs = [...new Set(cmd.payments.map((p) => p.paymentRef))].sort();
    return { advisoryKeys: [tableLockKey(locationId, cmd.tableId), ...refs.map((r) => paymentIntentLockKey(locationId, r))] };
  }

  async execute(ctx: ExecContext, cmd: RecordTablePayments): Promise<TablePaymentsRecorded> {
    const { db, locationId } = ctx;
    await requireTables(db, locationId, [cmd.tableId]);
    const orders = ordersRepo(db);
    let recorded = 0;
    const seen = new Set<string>();
    for (const p of cmd.payments) {
      if (seen.has(p.paymentRef)) throw DomainRefusal.invalid(`payment ${p.paymentRef} is listed twice`, 'payments');
      seen.add(p.paymentRef);
      const parts = (await orders.tablePaymentParts(locationId, p.paymentRef)).filter((r) => isTablePaymentPart(r.paymentRef, p.paymentRef));
      if (parts.length > 0) {
        const paid = parts.reduce((s, r) => s + r.paidAmount, 0n);
        const tips = parts.reduce((s, r) => s + r.tipsAmount, 0n);
        if (paid !== p.amount || tips !== p.tips || parts.some((r) => r.currency !== cmd.currency)) {
          throw DomainRefusal.conflict(
            `payment ${p.paymentRef} is already recorded with amount ${paid} and gratuity ${tips} ${parts[0]!.currency}; it cannot be recorded again with other values`,
          );
        }
        ctx.log.info({ paymentRef: p.paymentRef, tableId: cmd.tableId }, 'table payment already recorded; not recorded again');
        continue;
      }
      // Re-read each time: a payment earlier in the same message changed what is outstanding.
      const due = await tableDues(ctx, cmd.tableId);
      const allocation = allocateTablePayment(due, p);
      if (allocation.kind === 'refuse') throw DomainRefusal.conflict(`payment ${p.paymentRef} was not recorded: ${allocation.reason}`);
      for (const part of allocation.parts) {
        const pay: RecordPayment = {
          orderId: part.orderId,
          paymentRef: part.paymentRef,
          amount: part.amount,
          tips: part.tips,
          cashback: part.cashback,
          currency: cmd.currency,
          source: cmd.source,
        };
        if (cmd.lockRef !== undefined) pay.lockRef = cmd.lockRef;
        if (cmd.terminalLock !== undefined) pay.terminalLock = cmd.terminalLock;
        await runNestedChange(ctx, this.recordPayment, pay);
      }
      recorded++;
    }
    const amountDue = tableAmountDue(await tableDues(ctx, cmd.tableId));
    return { tableId: cmd.tableId, recorded, amountDue, currency: cmd.currency };
  }
}
