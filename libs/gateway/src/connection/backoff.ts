export interface BackoffOptions {
  /** First delay after a failure (1 s in production). */
  baseMs: number;
  /** Cap for ordinary failures (about 30 s). */
  maxMs: number;
  /** First delay after a handshake refused for authentication (401/403): 30 s by default, at most 1 minute. */
  authBaseMs: number;
  /** Cap for authentication failures: 15 minutes by default and at most (a smaller authBaseMs wins over nothing: the cap is never below it). */
  authMaxMs: number;
  /** Fraction of the delay that jitter may remove (0.25 gives [0.75 d, d]). */
  jitter?: number;
  random?: () => number;
}

/**
 * Exponential backoff with jitter: base, 2 base, 4 base ... capped at maxMs,
 * each shortened by a random part so venues do not reconnect in a herd.
 * Authentication refusals use their own, longer schedule (30 s, 1 min, 2 min ...
 * up to 15 min by default): long enough not to hammer a refused key, short
 * enough that a brief refusal does not keep the venue dark. New credentials or
 * an operator's reconnect reset it.
 */
export class Backoff {
  private failures = 0;
  private authFailures = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** The delay before the next attempt, counting this failure. */
  next(kind: 'error' | 'auth'): number {
    const { baseMs, maxMs, authBaseMs, authMaxMs } = this.opts;
    let d: number;
    if (kind === 'auth') {
      d = Math.min(authBaseMs * 2 ** Math.min(this.authFailures, 30), Math.max(authMaxMs, authBaseMs));
      this.authFailures++;
    } else {
      d = Math.min(baseMs * 2 ** Math.min(this.failures, 30), maxMs);
      this.failures++;
    }
    const jitter = this.opts.jitter ?? 0.25;
    const r = (this.opts.random ?? Math.random)();
    return Math.max(0, Math.round(d * (1 - jitter * r)));
  }

  get consecutiveFailures(): number {
    return this.failures + this.authFailures;
  }

  /** After a stable period (or new credentials) the schedule starts again. */
  reset(): void {
    this.failures = 0;
    this.authFailures = 0;
  }
}
