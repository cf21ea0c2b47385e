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
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly dispatch: Pick<DispatchOutbox, 'execute'>,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs a pass now (e.g. after a venue change), unless one is running. */
  kick(): void {
    if (!this.running && !this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => (this.running = undefined));
    }, ms);
    this.timer.unref?.();
  }

  private async pass(): Promise<void> {
    let more = false;
    try {
      more = (await this.dispatch.execute()).more;
    } catch (err) {
      this.onError(err);
    }
    if (!this.stopped) this.schedule(more ? 0 : this.pollMs);
  }
}
