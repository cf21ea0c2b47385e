import type { CounterCommandPort, CounterWork } from '@app/contracts';
import type { ClaimedCounterRow } from '../../repositories/counter.repository';
import { counterRepo } from '../../repositories/counter.repository';
import { runInTransaction } from '../../repositories/unit-of-work';
import type { CounterDeps } from '../ports';
import { counterEventOf, counterView } from '../view';

function workOf(op: CounterWork['op'], r: ClaimedCounterRow): CounterWork {
  if (op === 'cancel') return { op, transactionId: r.id, tid: r.tid };
  if (op === 'recover') {
    return {
      op,
      transactionId: r.id,
      kind: r.kind,
      tid: r.tid,
      ...(r.amount !== null ? { amount: Number(r.amount) } : {}),
      currency: r.currency,
      sentAt: (r.sentAt ?? r.createdAt).toISOString(),
    };
  }
  return {
    op: 'send',
    transactionId: r.id,
    kind: r.kind,
    tid: r.tid,
    ...(r.amount !== null ? { amount: Number(r.amount) } : {}),
    ...(r.amountCashback !== null ? { amountCashback: Number(r.amountCashback) } : {}),
    currency: r.currency,
  };
}

/**
 * TakeCounterWork (the gateway's CounterCommandPort): the location's counter
 * work for the replica that owns its PAC link, each item claimed by a
 * conditional UPDATE in one transaction, so two callers never get the same
 * item:
 * 1. accepted commands past expires_at fail `not_sent`;
 * 2. transactions on the terminal (sent, cancel_requested, recovering) that
 *    the caller does not track (`inFlight`) move to `recovering` for it:
 *    `recover` items (the caller keeps them in inFlight while it recovers);
 *    taken only from an older fence or from the caller itself, so a replica
 *    that lost its lease never takes them back from the new owner;
 * 3. cancels asked by the POS and not yet sent: `cancel` items; again every
 *    10 s while the transaction runs (a lost write is never the last word);
 * 4. the oldest accepted command of each terminal with nothing on it moves to
 *    `sent`: `send` items (one open transaction per terminal; a later one
 *    waits in `accepted` until the terminal is free or it expires).
 * Each state change is stored as a `transaction` event and published after
 * the commit. The common case (nothing to do) is one read.
 */
export class TakeCounterWork implements CounterCommandPort {
  constructor(private readonly d: CounterDeps) {}

  async takeWork(locationId: string, owner: { fence: number; replicaId: string; inFlight: readonly string[] }): Promise<CounterWork[]> {
    if (!(await counterRepo(this.d.prisma).hasWork(locationId, owner, owner.inFlight))) return [];
    const { work, events } = await runInTransaction(this.d.prisma, async (tx) => {
      const repo = counterRepo(tx);
      const expired = await repo.failExpired(locationId);
      const lost = await repo.claimLost(locationId, owner, owner.inFlight);
      const cancels = await repo.claimCancels(locationId);
      const sends = await repo.claimSends(locationId, owner);
      const changed = [...expired, ...lost.filter((r) => r.previousState !== r.state), ...sends];
      const stored = await repo.appendEvents(
        locationId,
        changed.map((r) => ({ type: 'transaction' as const, transactionId: r.id, tid: r.tid, data: { ...counterView(r) } })),
      );
      return {
        work: [...cancels.map((r) => workOf('cancel', r)), ...lost.map((r) => workOf('recover', r)), ...sends.map((r) => workOf('send', r))],
        events: stored.map(counterEventOf),
      };
    });
    if (work.length || events.length) {
      this.d.log.info(
        { locationId, replicaId: owner.replicaId, fence: owner.fence, work: work.map((w) => `${w.op}:${w.transactionId}`), events: events.length },
        'counter work taken',
      );
    }
    await this.d.signals.publishEvents(locationId, events);
    return work;
  }
}
