import type { DispatchOutbox } from './dispatch-outbox.usecase';

/**
 * Runs DispatchOutbox every `pollMs` (immediately again while a pass found
 * work) until stopped. The outbox table is the durable queue: a restart
 * resumes from it.
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
    let busy = false;
    try {
      const r = await this.dispatch.execute();
      busy = r.sent + r.failed + r.retried > 0;
    } catch (err) {
      this.onError(err);
    }
    if (!this.stopped) this.schedule(busy ? 0 : this.pollMs);
  }
}
