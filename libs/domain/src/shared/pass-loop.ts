/**
 * Runs `pass` over and over, one at a time, each next one after the delay the last one returned, until stopped.
 * The background loops of the worker (the outbox dispatcher, retention) are this with their own pass. A pass must
 * not reject: it handles its own failures and says when to go again. The timer does not keep the process alive.
 */
export class PassLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly pass: () => Promise<number>) {}

  start(firstAfterMs = 0): void {
    this.stopped = false;
    this.schedule(firstAfterMs);
  }

  /** Runs a pass now, unless one is running (or the loop is stopped). */
  kick(): void {
    if (!this.running && !this.stopped) this.schedule(0);
  }

  /** No pass after this; resolves once a running one has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then((nextMs) => {
          if (!this.stopped) this.schedule(nextMs);
        })
        .finally(() => (this.running = undefined));
    }, ms);
    this.timer.unref?.();
  }
}
