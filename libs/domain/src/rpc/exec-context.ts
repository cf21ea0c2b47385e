import type { Logger } from '@app/common';
import type { Prisma } from '@app/db';
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
  /**
   * When the gateway answers the request itself (epoch ms; set by RpcDispatcher from the job): a use-case that waits
   * (a PAC signature request) answers before it, since an answer after it is never sent.
   */
  deadline?: number;
  /**
   * Set by RpcDispatcher for a use-case with a plan(): the locks of the plan
   * are held, and `pre` is the value of the plan's `read`, read after they
   * were taken (so it is current). Absent for a use-case without a plan (reads,
   * and a change whose command could not be built).
   */
  planned?: { pre: unknown };
  /**
   * Set by RpcDispatcher for methods that change state: returns an SQL
   * fragment (one CTE, `name AS (INSERT ...)`) that stores the request's
   * response in processed_requests, for the use-case to fold into its last
   * write. Once called, the dispatcher does not store the response again.
   * `value` must be exactly what execute() returns (the domain result: the
   * dispatcher maps it to the wire response with the method table's toWire,
   * once).
   */
  storeResponse?: (name: string, value: unknown) => Prisma.Sql;
}

/**
 * What a state-changing use-case asks the dispatcher to do in the statements
 * that open its transaction (after the request's own advisory lock):
 * take these advisory locks, in this order, then the order's row lock, then
 * read `read` (a scalar SQL expression, handed to execute() as ctx.planned.pre).
 */
export interface MutationPlan {
  advisoryKeys?: string[];
  orderId?: string;
  read?: Prisma.Sql;
}

/** A capability: one class per command, with a single execute(); a dialect's method table maps wire methods onto it. */
export interface UseCase<P, R> {
  execute(ctx: ExecContext, params: P): Promise<R>;
  /** Optional, for methods that change state: see MutationPlan. */
  plan?(locationId: string, params: P, now: Date): MutationPlan | undefined;
}
