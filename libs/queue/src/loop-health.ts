import type Redis from 'ioredis';
import type { Logger } from '@app/common';

/**
 * How long a consumer's Redis connection may be down, or its loop keep failing,
 * before /health says so (ioredis reconnects and the loops retry on their own).
 */
const GRACE_MS = 5_000;
/** An error streak counts as over when no error came for this long. */
const ERROR_QUIET_MS = 10_000;
/** Loop errors are logged at most this often (a Redis outage would otherwise log one per retry). */
const ERROR_LOG_EVERY_MS = 10_000;

/**
 * The health rules every queue consumer shares (QueueWorker on BullMQ, the
 * streams transport's RpcStreamConsumer): it is unhealthy, with a readable
 * reason, when it has not started, its loop died (`die`), its Redis
 * connection has been down longer than a few seconds (or closed for good),
 * or its loop has kept reporting errors (`noteError`) for that long without a
 * sign of progress (`progress`) in between.
 */
export class LoopHealth {
  started = false;
  /** Set by the consumer's close(): a loop ending or a connection closing is then expected. */
  closing = false;
  private dead?: string;
  private lastError?: string;
  private lastErrorAt = 0;
  private lastErrorLoggedAt = 0;
  /** When the current run of errors began (reset by a sign of progress: a job finished, the queue drained, a read, a reconnect). */
  private errorsSince?: number;
  private downSince?: number;

  constructor(
    private readonly queue: string,
    private readonly connection: Redis,
    private readonly logger?: Logger,
  ) {
    connection.on('ready', () => {
      this.downSince = undefined;
      this.errorsSince = undefined;
    });
    connection.on('close', () => (this.downSince ??= Date.now()));
    connection.on('end', () => {
      if (!this.closing) this.die('its Redis connection was closed for good');
    });
  }

  /** An error of the loop: a streak is errors less than ERROR_QUIET_MS apart; a sporadic one starts a new streak. */
  noteError(err: Error): void {
    const now = Date.now();
    if (this.errorsSince === undefined || now - this.lastErrorAt >= ERROR_QUIET_MS) this.errorsSince = now;
    this.lastError = err.message;
    this.lastErrorAt = now;
    if (now - this.lastErrorLoggedAt >= ERROR_LOG_EVERY_MS) {
      this.lastErrorLoggedAt = now;
      this.logger?.warn({ queue: this.queue, err: err.message }, 'queue worker error');
    }
  }

  /** A sign the loop works: the current error streak is over. */
  progress(): void {
    this.errorsSince = undefined;
  }

  /** The loop cannot work any more (ignored once closing). */
  die(reason: string): void {
    if (this.dead || this.closing) return;
    this.dead = reason;
    this.logger?.error({ queue: this.queue, reason }, 'queue worker stopped working');
  }

  check(): { ok: boolean; error?: string } {
    const q = this.queue;
    if (this.dead) return { ok: false, error: `${q} worker is dead: ${this.dead}` };
    if (!this.started) return { ok: false, error: `${q} worker has not started` };
    const now = Date.now();
    const why = this.lastError ? ` (last error: ${this.lastError})` : '';
    if (this.downSince !== undefined && now - this.downSince >= GRACE_MS) {
      return { ok: false, error: `${q} worker's Redis connection has been ${this.connection.status} for ${Math.round((now - this.downSince) / 1000)} s${why}` };
    }
    if (this.errorsSince !== undefined && now - this.lastErrorAt < ERROR_QUIET_MS && now - this.errorsSince >= GRACE_MS) {
      return { ok: false, error: `${q} worker's loop has been failing for ${Math.round((now - this.errorsSince) / 1000)} s${why}` };
    }
    return { ok: true };
  }
}
