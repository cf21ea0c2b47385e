import { PassLoop } from '../shared/pass-loop';
import type { DispatchOutbox } from './dispatch-outbox.usecase';

/**
 * Runs DispatchOutbox every `pollMs` (immediately again while a pass claims a
 * full batch: a backlog drains at once) until stopped. A pass that claimed
 * less took everything that was due, so the next one waits `pollMs` whether
 * or not it found work: under a steady stream of changes their POS events go
 * out in one pass per `pollMs`, as they do when the venue is quiet, instead
 * of a pass per handful of events. The outbox table is the durable queue: a
 * restart resumes from it.
 */
export class OutboxLoop {
  private readonly loop: PassLoop;

  constructor(
    private readonly dispatch: Pick<DispatchOutbox, 'execute'> & Partial<Pick<DispatchOutbox, 'drain'>>,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.loop = new PassLoop(() => this.pass());
  }

  start(): void {
    this.loop.start(0);
  }

  /** Runs a pass now (e.g. after a venue change), unless one is running. */
  kick(): void {
    this.loop.kick();
  }

  /** No pass after this; resolves once the running pass and the slow sends it or earlier ones left running are done. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.dispatch.drain?.();
  }

  private async pass(): Promise<number> {
    let more = false;
    try {
      more = (await this.dispatch.execute()).more;
    } catch (err) {
      this.onError(err);
    }
    return more ? 0 : this.pollMs;
  }
}
