import type { JsonRpcResponse, RpcRequest } from '@app/contracts';
import { EposError, failure } from '@app/contracts';
import { Prisma } from '@app/db';
import type { PrismaClient } from '@app/db';
import { jsonText, jsonValue } from '../shared/json-value';
import type { Tx } from '../shared/tx';
import { deleteBatch } from './retention-sql';

type Job = Pick<RpcRequest, 'locationId' | 'rpcId' | 'method' | 'traceId' | 'dialect'>;

/** The dialect a job's id belongs to (ids are unique per location and dialect). */
const dialectOf = (job: Pick<RpcRequest, 'dialect'>): string => job.dialect ?? 'epos-data';

/**
 * processed_requests: one row per (location, dialect, request id) of a state-changing
 * request, holding the response Dojo was (or will be) sent. Whoever inserts the
 * row first decides the answer to that id:
 *
 * - the worker inserts it in the same transaction as the request's effects
 *   (insertCte), so a committed effect always has its stored success or
 *   error, and a repeated id is answered from it;
 * - the gateway inserts its error answer at the request's deadline
 *   (claimAtDeadline) before telling Dojo "nothing was applied": from then on
 *   the worker's insert hits the primary key and its transaction rolls back,
 *   so that error stays true. If the worker's row is already there (or its
 *   insert is in flight and then commits) the gateway sends that answer.
 */
export class ProcessedRequests {
  constructor(
    private readonly prisma: PrismaClient,
    /** Bound on each statement of the gateway's claim (it waits for an in-flight worker insert). */
    private readonly statementTimeoutMs = 2_000,
  ) {}

  /** A CTE (`name AS (INSERT ...)`) that stores `response` for the job; a row already there fails the statement (23505). */
  static insertCte(name: string, job: Job, response: JsonRpcResponse): Prisma.Sql {
    return Prisma.sql`${Prisma.raw(name)} AS (INSERT INTO processed_requests (location_id, dialect, rpc_id, method, response)
      VALUES (${job.locationId}::uuid, ${dialectOf(job)}, ${job.rpcId}, ${job.method}, ${jsonText(response)}::jsonb))`;
  }

  /** The stored answer of an id, if any (method: the method it was stored for). */
  async find(locationId: string, rpcId: string, dialect = 'epos-data'): Promise<{ method: string; response: JsonRpcResponse } | undefined> {
    const rows = await this.prisma.$queryRaw<{ method: string; response: unknown }[]>`
      SELECT method, response FROM processed_requests WHERE location_id = ${locationId}::uuid AND dialect = ${dialect} AND rpc_id = ${rpcId}`;
    const row = rows[0];
    return row ? { method: row.method, response: jsonValue<JsonRpcResponse>(row.response) } : undefined;
  }

  /**
   * The gateway's side at a deadline: stores `error` as the answer to the job
   * unless an answer is stored already, and returns the answer to send.
   * `claimed` is true when `error` was stored (no commit can happen any more).
   * Throws when Postgres cannot be reached or does not answer in time: then
   * nothing is known and no error may be sent.
   */
  async claimAtDeadline(job: Job, error: JsonRpcResponse): Promise<{ claimed: boolean; response: JsonRpcResponse }> {
    const timeout = String(Math.max(1, Math.floor(this.statementTimeoutMs)));
    // Separate statements: the SELECT needs its own snapshot to see a worker row that committed while the INSERT waited.
    const [, inserted, stored] = await this.prisma.$transaction([
      this.prisma.$queryRaw`SELECT set_config('statement_timeout', ${timeout}, true)`,
      this.prisma.$queryRaw<{ n: number }[]>`
        INSERT INTO processed_requests (location_id, dialect, rpc_id, method, response)
        VALUES (${job.locationId}::uuid, ${dialectOf(job)}, ${job.rpcId}, ${job.method}, ${jsonText(error)}::jsonb)
        ON CONFLICT DO NOTHING RETURNING 1 AS n`,
      this.prisma.$queryRaw<{ method: string; response: unknown }[]>`
        SELECT method, response FROM processed_requests
         WHERE location_id = ${job.locationId}::uuid AND dialect = ${dialectOf(job)} AND rpc_id = ${job.rpcId}`,
    ]);
    if (inserted.length > 0) return { claimed: true, response: error };
    const row = stored[0];
    if (!row) throw new Error('processed_requests row neither inserted nor found');
    if (row.method !== job.method) {
      // The id was used before for another request; this one was never run (the worker refuses it likewise).
      // Another dialect's answer is its own deadline error, which is just as true: nothing was applied.
      if (dialectOf(job) !== 'epos-data') return { claimed: false, response: error };
      return {
        claimed: false,
        response: failure(
          job.rpcId,
          EposError.invalid(`JSON-RPC id ${job.rpcId} was already used for ${row.method}; use a new id for a new request`).toBody(job.traceId),
        ),
      };
    }
    return { claimed: false, response: jsonValue<JsonRpcResponse>(row.response) };
  }

  /** Retention: up to `limit` stored answers written before `before` deleted (a repeat of such an old id is then a new request); how many. */
  deleteStoredBefore(before: Date, limit: number): Promise<number> {
    return deleteBatch(this.prisma, 'processed_requests', Prisma.sql`created_at < ${before}`, limit);
  }
}

/** What the first read of a state-changing request gives (storedWithPlanSql). */
export interface StoredWithPlan {
  method: string | null;
  response: unknown;
  pre: unknown;
}

/**
 * The first read of a state-changing request's transaction, with its locks held: the
 * answer stored for (location, rpc id), if any, and the plan's read (`pre`, NULL without one),
 * in one statement (one row).
 */
export function storedWithPlanSql(locationId: string, rpcId: string, planRead: Prisma.Sql | undefined, dialect = 'epos-data'): Prisma.Sql {
  return Prisma.sql`
    SELECT p.method, p.response, ${planRead ?? Prisma.sql`NULL::json`} AS pre
      FROM (SELECT 1) AS one
      LEFT JOIN processed_requests p ON p.location_id = ${locationId}::uuid AND p.dialect = ${dialect} AND p.rpc_id = ${rpcId}`;
}

/** storedWithPlanSql's read on its own. */
export async function readStoredWithPlan(tx: Tx, locationId: string, rpcId: string, planRead: Prisma.Sql | undefined, dialect = 'epos-data'): Promise<StoredWithPlan> {
  const [first] = await tx.$queryRaw<StoredWithPlan[]>(storedWithPlanSql(locationId, rpcId, planRead, dialect));
  return first!;
}
