import type { CounterResolution, CounterTransactionView } from '@app/contracts';
import { DomainError } from '../../admin/errors';
import { resolutionOf } from '../../core/rules';
import { counterRepo } from '../../repositories/counter.repository';
import { runInTransaction } from '../../repositories/unit-of-work';
import { applyCounterRefund, recordCounterPayment } from '../counter-effects';
import type { CounterDeps } from '../ports';
import { counterEventOf, counterView } from '../view';

export interface ResolveCounterCommand {
  resolution: CounterResolution;
  /** The tip the terminal's receipt shows (minor units): a charged sale only. */
  amountGratuity?: bigint;
}

/**
 * ResolveCounterTransaction (venue API): the venue says what its terminal's
 * receipts show for a transaction that failed `outcome_unknown`. Until then
 * that transaction holds its amount on its order (or on the sale it refunds),
 * so no other terminal, card machine or checkout link takes the money again.
 * `charged` records what a SUCCESSFUL outcome would have (a sale's payment on
 * its order, a refund off its sale's payment), in the same transaction as the
 * resolution; `not_charged` releases the hold. Once only: the same resolution
 * again answers as before, another one is 409 `already_resolved`.
 */
export class ResolveCounterTransaction {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, id: string, cmd: ResolveCounterCommand, traceId: string): Promise<CounterTransactionView> {
    const log = this.d.log.child({ locationId, transactionId: id, traceId });
    const done = await runInTransaction(this.d.prisma, async (tx) => {
      const repo = counterRepo(tx);
      const row = await repo.lockForSettle(locationId, id);
      if (!row) throw DomainError.notFound('counter transaction', id);
      const what = resolutionOf(row, cmd.resolution);
      if (what.do === 'refuse') throw DomainError.conflict(what.message, { error: what.error, ...(row.resolution ? { resolution: row.resolution } : {}) });
      if (what.do === 'already') return { view: counterView(row), events: [] };
      if (cmd.amountGratuity !== undefined && (cmd.resolution !== 'charged' || row.kind !== 'sale')) {
        throw DomainError.invalid([{ field: 'amountGratuity', reason: 'only for a sale resolved as charged' }]);
      }
      let paymentId: string | null = null;
      let effect = cmd.resolution === 'charged' ? 'charged' : 'not charged';
      if (cmd.resolution === 'charged' && row.kind === 'sale' && row.orderId !== null) {
        const taken = { amount: row.amount!, tips: cmd.amountGratuity ?? 0n, cashback: row.amountCashback ?? 0n, currency: row.currency };
        const refused = await recordCounterPayment(tx, row, taken, traceId, log);
        if (refused === undefined) paymentId = row.id;
        else effect += `; the payment was not recorded on order ${row.orderId}: ${refused}`;
      }
      if (cmd.resolution === 'charged' && row.kind === 'refund' && row.refundOf !== null) {
        const refused = await applyCounterRefund(tx, row, row.amount!);
        if (refused === undefined) paymentId = row.refundOf;
        else effect += `; the refund was not applied to the payment of counter sale ${row.refundOf}: ${refused}`;
      }
      const updated = await repo.resolve(locationId, id, cmd.resolution, paymentId, `${row.message ?? 'the outcome could not be read back'}; resolved by the venue: ${effect}`);
      const view = counterView(updated!);
      const events = await repo.appendEvents(locationId, [{ type: 'transaction', transactionId: id, tid: row.tid, data: { ...view } }]);
      return { view, events: events.map(counterEventOf) };
    });
    if (done.events.length) {
      log.info({ resolution: done.view.resolution, paymentId: done.view.paymentId }, 'counter transaction resolved by the venue');
      await this.d.signals.publishEvents(locationId, done.events);
    }
    return done.view;
  }
}
