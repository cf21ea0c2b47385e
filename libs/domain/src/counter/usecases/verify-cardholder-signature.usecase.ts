import type { ConnectPac } from '@app/contracts';
import { COUNTER_SIGNATURE_WAIT_DEFAULT_MS, COUNTER_SIGNATURE_WAIT_MAX_MS } from '@app/contracts';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { counterRepo } from '../../repositories/counter.repository';
import { LocationsRepository } from '../../repositories/locations.repository';
import type { CounterSignals, SignatureDecision } from '../ports';
import { counterEventOf } from '../view';

export interface VerifyCardholderSignatureCommand {
  tid: string;
  receiptLines?: ConnectPac.TerminalReceipts;
}

/** How often the wait looks for the POS's answer. */
const POLL_MS = 100;
/** Kept after the wait, before the request's deadline, to store and send the answer (the gateway sends an error at it). */
const SIGNATURE_ANSWER_MARGIN_MS = 2_000;

/**
 * VerifyCardholderSignature (connect-pac's signatureVerificationRequest):
 * stores and publishes `signature.requested` (with the receipt lines, when to
 * answer by and the default). When nobody listens to the venue's stream (no
 * receiver of the publish, and no stream present: CounterSignals.listening) the
 * venue's default (`signatureDefault`) is applied at once; else the POS has
 * `signatureWaitMs` (at most COUNTER_SIGNATURE_WAIT_MAX_MS, below Connect's
 * own window) to answer through the venue API, and the default after that;
 * never past the request's deadline less SIGNATURE_ANSWER_MARGIN_MS (a request
 * that waited in the queue, or a short GATEWAY_DEADLINE_OVERRIDE_MS), so the
 * answer reaches Connect, not the gateway's error at the deadline.
 * The decision is stored first-writer-wins (the POS's answer racing the
 * default never gives two answers), stored as `signature.answered {by}`, and
 * the answer is `{accepted}`. A repeated request for the same transaction is
 * answered with the decision already taken. The wait holds a worker slot, and
 * ends with the default at once when the worker stops (CounterSignals.stopping).
 */
export class VerifyCardholderSignature implements UseCase<VerifyCardholderSignatureCommand, { accepted: boolean }> {
  constructor(private readonly signals: CounterSignals) {}

  async execute(ctx: ExecContext, cmd: VerifyCardholderSignatureCommand): Promise<{ accepted: boolean }> {
    const repo = counterRepo(ctx.db);
    const link = await new LocationsRepository(ctx.db).counterLink(ctx.locationId);
    const byDefault: SignatureDecision = { accepted: link?.settings.signatureDefault === 'accept', by: 'default' };
    const waitMs = Math.min(link?.settings.signatureWaitMs ?? COUNTER_SIGNATURE_WAIT_DEFAULT_MS, COUNTER_SIGNATURE_WAIT_MAX_MS);
    const open = await repo.openOnTerminal(ctx.locationId, cmd.tid);
    const log = ctx.log.child({ tid: cmd.tid, transactionId: open?.id });
    const taken = open ? await this.signals.signatureDecision(open.id) : null;
    if (taken) {
      log.info({ accepted: taken.accepted, by: taken.by }, 'signature verification asked again; answering the decision taken');
      return { accepted: taken.accepted };
    }
    const ids = open ? { transactionId: open.id } : {};
    const until = Math.min(Date.now() + waitMs, (ctx.deadline ?? Infinity) - SIGNATURE_ANSWER_MARGIN_MS);
    const answerBy = new Date(Math.max(until, Date.now())).toISOString();
    const requested = await repo.appendEvents(ctx.locationId, [
      {
        type: 'signature.requested',
        ...ids,
        tid: cmd.tid,
        data: { ...ids, tid: cmd.tid, receiptLines: cmd.receiptLines ?? {}, answerBy, default: link?.settings.signatureDefault ?? 'decline' },
      },
    ]);
    const listeners = await this.signals.publishEvents(ctx.locationId, requested.map(counterEventOf));
    // PUBLISH's count misses a stream subscribed on another node of a Redis Cluster: the streams' presence says it.
    const listening = listeners > 0 || (open !== null && (await this.signals.listening(ctx.locationId)));
    let decision: SignatureDecision | null = null;
    if (open && listening && until > Date.now()) decision = await this.waitForPos(open.id, until);
    const stopped = decision === null && this.signals.stopping?.() === true;
    if (!decision) {
      // First writer wins: a POS answer that lands at the last moment is the one applied.
      decision = open && !(await this.signals.decideSignature(open.id, byDefault)) ? ((await this.signals.signatureDecision(open.id)) ?? byDefault) : byDefault;
    }
    const answered = await repo.appendEvents(ctx.locationId, [
      { type: 'signature.answered', ...ids, tid: cmd.tid, data: { ...ids, tid: cmd.tid, accepted: decision.accepted, by: decision.by } },
    ]);
    await this.signals.publishEvents(ctx.locationId, answered.map(counterEventOf));
    log.info({ accepted: decision.accepted, by: decision.by, listeners, listening, ...(stopped ? { workerStopping: true } : {}) }, 'signature verification answered');
    return { accepted: decision.accepted };
  }

  private async waitForPos(transactionId: string, until: number): Promise<SignatureDecision | null> {
    for (;;) {
      const d = await this.signals.signatureDecision(transactionId);
      if (d) return d;
      const left = until - Date.now();
      if (left <= 0 || this.signals.stopping?.()) return null;
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, left)));
    }
  }
}
