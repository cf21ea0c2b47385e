import type { Logger } from '@app/common';
import type { Tx } from '../shared/tx';

/**
 * What a use-case receives besides its params: the database handle (the
 * request's interactive transaction for methods that change state, the plain
 * client for reads), the location every query is scoped to, the request's
 * logger (rpcId, locationId, traceId bound) and the request's clock.
 */
export interface ExecContext {
  db: Tx;
  locationId: string;
  rpcId: string;
  traceId: string;
  log: Logger;
  /** One "now" per request, so every comparison in it agrees. */
  now: Date;
}

/** A capability: one class per JSON-RPC method, with a single execute(). */
export interface UseCase<P, R> {
  execute(ctx: ExecContext, params: P): Promise<R>;
}
