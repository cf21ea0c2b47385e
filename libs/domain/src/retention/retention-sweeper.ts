import type { Logger } from '@app/common';
import { PassLoop } from '../shared/pass-loop';
import type { PruneExpiredRecords, RetentionPass } from './prune-expired-records.usecase';

/**
 * Runs a retention pass every `intervalMs`, the first `firstAfterMs` after start (a restart loop does not turn
 * into a loop of passes), until stopped. A pass that stopped at its share with more to remove is followed by the
 * next one at once; a failed pass is logged and tried again at the next interval. stop() ends a running pass after
 * its current batch.
 */
export class RetentionSweeper {
  private readonly loop: PassLoop;

  constructor(
    private readonly prune: Pick<PruneExpiredRecords, 'runPass' | 'stop'>,
    private readonly opts: { intervalMs: number; firstAfterMs: number; onPass?: (pass: RetentionPass) => void },
    private readonly log: Logger,
  ) {
    this.loop = new PassLoop(() => this.pass());
  }

  start(): void {
    this.loop.start(this.opts.firstAfterMs);
  }

  async stop(): Promise<void> {
    this.prune.stop();
    await this.loop.stop();
  }

  private async pass(): Promise<number> {
    try {
      const pass = await this.prune.runPass();
      this.opts.onPass?.(pass);
      return pass.complete ? this.opts.intervalMs : 0;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'retention pass failed; trying again at the next interval');
      return this.opts.intervalMs;
    }
  }
}
