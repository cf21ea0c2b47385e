import type { Logger } from '@app/common';
import type { PruneExpiredRecords, RetentionPass } from './prune-expired-records.usecase';

/**
 * Runs a retention pass every `intervalMs`, the first `firstAfterMs` after start (a restart loop does not turn
 * into a loop of passes), until stopped. A pass that stopped at its share with more to remove is followed by the
 * next one at once; a failed pass is logged and tried again at the next interval. stop() ends a running pass after
 * its current batch.
 */
export class RetentionSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly prune: Pick<PruneExpiredRecords, 'runPass' | 'stop'>,
    private readonly opts: { intervalMs: number; firstAfterMs: number; onPass?: (pass: RetentionPass) => void },
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.opts.firstAfterMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.prune.stop();
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
    let again = false;
    try {
      const pass = await this.prune.runPass();
      this.opts.onPass?.(pass);
      again = !pass.complete;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'retention pass failed; trying again at the next interval');
    }
    if (!this.stopped) this.schedule(again ? 0 : this.opts.intervalMs);
  }
}
