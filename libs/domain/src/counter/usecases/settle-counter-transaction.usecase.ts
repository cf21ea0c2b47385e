import type { CounterSettleJob, CounterTransactionView } from '@app/contracts';
import { appliesRefund, counterSettlementOf, isCounterOpen, recordsPayment } from '../../core/rules';
import { counterRepo } from '../../repositories/counter.repository';
import { runInTransaction } from '../../repositories/unit-of-work';
import { applyCounterRefund, recordCounterPayment, takenBy } from '../counter-effects';
import type { CounterDeps } from '../ports';
import { counterEventOf, counterView } from '../view';

export type SettleOutcome =
  /** Settled now (exactly once): finished or failed. */
  | { kind: 'settled'; view: CounterTransactionView }
  /** Settled before (a repeated job, or a second reply): nothing changed. */
  | { kind: 'already'; view: CounterTransactionView }
  /** Not sent yet (accepted): an outcome for it cannot be ours; nothing changed. */
  | { kind: 'not_sent'; view: CounterTransactionView }
  /** No such transaction at the location. */
  | { kind: 'missing' };

/**
 * SettleCounterTransaction (the worker, from a CounterSettleJob): one
 * transaction that locks the counter transaction's row and, only while it is
 * open, moves it to finished or failed (core/rules counterSettlementOf: a
 * `recovered` outcome settles it only when the terminal's last transaction is
 * this one). A SUCCESSFUL sale against an order is recorded on the order in
 * the same transaction, and a SUCCESSFUL refund of a counter sale is applied
 * to that sale's payment. So duplicate jobs, a reply and a recovery of the
 * same transaction, or two workers, settle it exactly once. The `transaction`
 * event is stored with it and published after the commit.
 */
export class SettleCounterTransaction {
  constructor(private readonly d: CounterDeps) {}

  async execute(job: CounterSettleJob): Promise<SettleOutcome> {
    const log = this.d.log.child({ locationId: job.locationId, transactionId: job.transactionId, traceId: job.traceId, replicaId: job.replicaId });
    const done = await runInTransaction(this.d.prisma, async (tx) => {
      const repo = counterRepo(tx);
      const row = await repo.lockForSettle(job.locationId, job.transactionId);
      if (!row) return { kind: 'missing' as const };
      if (!isCounterOpen(row.state)) return { kind: 'already' as const, view: counterView(row) };
      if (row.state === 'accepted') return { kind: 'not_sent' as const, view: counterView(row) };
      // What the terminal reported is settled one transaction of the terminal at a time, so a recovered `duplicate`
      // is never taken for two transactions, nor for one the terminal's own reply settled.
      const reported = job.outcome.kind === 'transaction' || job.outcome.kind === 'recovered' ? job.outcome.transaction : null;
      if (reported) await repo.lockTerminalSettling(row.locationId, row.tid);
      const claimedBy = job.outcome.kind === 'recovered' && reported ? await repo.settledWith(row.locationId, row.tid, row.id, reported, row.sentAt ?? row.createdAt) : undefined;
      const s = counterSettlementOf({ kind: row.kind, amount: row.amount, sentAt: row.sentAt }, job.outcome, claimedBy);
      let paymentId: string | null = null;
      let message = s.state === 'failed' ? s.message : (s.transaction.userMessage ?? null);
      if (recordsPayment(row.kind, row.orderId, s)) {
        const refused = await recordCounterPayment(tx, row, takenBy(row, s.transaction), job.traceId, log);
        if (refused === undefined) paymentId = row.id;
        else message = `the payment was not recorded on order ${row.orderId}: ${refused}`;
      }
      if (appliesRefund(row.kind, row.refundOf, s)) {
        const refused = await applyCounterRefund(tx, row, takenBy(row, s.transaction).amount);
        if (refused === undefined) paymentId = row.refundOf;
        else message = `the refund was not applied to the payment of counter sale ${row.refundOf}: ${refused}`;
      }
      const updated = await repo.settle(
        job.locationId,
        row.id,
        s.state === 'finished'
          ? { state: 'finished', result: s.result, message, outcome: s.transaction, paymentId }
          : { state: 'failed', failure: s.failure, message, ...(s.raw !== undefined ? { outcome: s.raw } : {}) },
      );
      const view = counterView(updated!);
      const events = await repo.appendEvents(job.locationId, [{ type: 'transaction', transactionId: row.id, tid: row.tid, data: { ...view } }]);
      return { kind: 'settled' as const, view, events: events.map(counterEventOf) };
    });
    if (done.kind === 'settled') {
      log.info({ state: done.view.state, result: done.view.result, failure: done.view.failure, paymentId: done.view.paymentId, outcome: job.outcome.kind }, 'counter transaction settled');
      await this.d.signals.publishEvents(job.locationId, done.events);
      return { kind: 'settled', view: done.view };
    }
    const late = job.outcome.kind === 'transaction' || job.outcome.kind === 'recovered' ? job.outcome.transaction : null;
    if (done.kind === 'already' && done.view.failure === 'outcome_unknown' && done.view.resolution === undefined && late) {
      // Given up (by the POS, or past the recovery's bound) before the terminal answered: the answer cannot settle it
      // any more, but it is what the venue needs to resolve it, so it is logged where operators look.
      log.warn(
        { result: late.transactionResult, amountBase: late.amountBase, amountGratuity: late.amountGratuity, connectTransactionId: late.transactionId, transactionTime: late.transactionTime },
        "the terminal's answer came after the transaction's outcome was given up as unknown; resolve it with this",
      );
      return done;
    }
    if (done.kind === 'missing') log.warn('settle job for an unknown counter transaction; ignored');
    else log.info({ state: done.view.state, outcome: job.outcome.kind }, done.kind === 'already' ? 'counter transaction already settled; nothing changed' : 'counter transaction not sent yet; outcome ignored');
    return done;
  }
}
