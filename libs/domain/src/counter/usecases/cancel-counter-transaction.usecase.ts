import type { CounterTransactionView } from '@app/contracts';
import { DomainError } from '../../admin/errors';
import { cancelOf } from '../../core/rules';
import { counterRepo } from '../../repositories/counter.repository';
import { runInTransaction } from '../../repositories/unit-of-work';
import type { CounterDeps } from '../ports';
import { counterEventOf, counterView } from '../view';

/**
 * CancelCounterTransaction (venue API): an accepted command fails at once
 * (`cancelled_before_sending`: it never reaches the terminal); a sent one
 * becomes `cancel_requested` and the owning gateway sends cancelTransaction
 * (the outcome still comes as the transaction's reply); a recovering one (its
 * outcome lost, the terminal's last transaction not read yet) stops being
 * recovered and fails `outcome_unknown`, for the venue to resolve from the
 * terminal's receipts; a repeated cancel answers the same; anything later is
 * 409 not_cancellable.
 */
export class CancelCounterTransaction {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, id: string): Promise<CounterTransactionView> {
    for (let attempt = 0; ; attempt++) {
      const row = await counterRepo(this.d.prisma).find(locationId, id);
      if (!row) throw DomainError.notFound('counter transaction', id);
      const what = cancelOf(row.state);
      if (what === 'already') return counterView(row);
      if (what === 'refuse') throw DomainError.conflict(`counter transaction ${id} is ${row.state}; it can no longer be cancelled`, { error: 'not_cancellable', state: row.state });
      const done = await runInTransaction(this.d.prisma, async (tx) => {
        const repo = counterRepo(tx);
        const changed = await repo.cancel(locationId, id, what === 'fail' ? 'accepted' : what === 'give_up' ? 'recovering' : 'sent');
        if (!changed) return null;
        const events = await repo.appendEvents(locationId, [{ type: 'transaction', transactionId: id, tid: changed.tid, data: { ...counterView(changed) } }]);
        return { view: counterView(changed), events: events.map(counterEventOf) };
      });
      // The state moved between the read and the update (the gateway claimed it): decide again.
      if (!done) {
        if (attempt < 3) continue;
        throw DomainError.conflict(`counter transaction ${id} is changing; retry the cancel`, { error: 'retry' });
      }
      this.d.log.info({ locationId, transactionId: id, state: done.view.state }, 'counter transaction cancel asked');
      await this.d.signals.publishEvents(locationId, done.events);
      if (what === 'request') await this.d.signals.notifyGateways({ locationId, what: 'work' });
      return done.view;
    }
  }
}
