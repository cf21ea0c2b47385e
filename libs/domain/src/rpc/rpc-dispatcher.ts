import type { Logger } from '@app/common';
import { lazyChild } from '@app/common';
import type {
  DojoEventPayload,
  EposError,
  JsonRpcResponse,
  // The request as handed over by the gateway, whatever carries it (no queue types in the domain).
  RpcRequest as RpcJob} from '@app/contracts';
import { ReplyWithheld } from '@app/contracts';
import type { PrismaClient } from '@app/db';
import { EPOS_DATA } from '../dialects/epos-data/dialect';
import type { OrderReadCache } from '../orders/order-read-cache';
import { requestIdempotencyKey } from '../core/rules';
import { jsonValue } from '../shared/json-value';
import { ordersRepo, OrdersRepository } from '../repositories/orders.repository';
import type { Tx } from '../shared/tx';
import { runWrites } from '../repositories/outbox.repository';
import type { Dialect, MethodEntry, RequestSettings } from './dialect';
import type { ExecContext, MutationPlan } from './exec-context';
import type { StoredWithPlan } from '../repositories/processed-requests.repository';
import { ProcessedRequests, readStoredWithPlan, storedWithPlanSql } from '../repositories/processed-requests.repository';
import { finalWrite } from '../repositories/sql-tx';
import { rawOnPg, runInTransaction, runPlannedTransaction, tryLocksAndRead, waitForAdvisoryLock } from '../repositories/unit-of-work';

/** The Dojo events pipeline as the dispatcher needs it (IngestDojoEvent implements it). */
export interface DojoEventIngest {
  ingest(cmd: { payload: DojoEventPayload; channel: 'socket'; locationId: string; traceId?: string }): Promise<{ eventRowId: string; duplicate: boolean }>;
}

export interface RpcDispatcherDeps<Res = JsonRpcResponse, E = EposError> {
  prisma: PrismaClient;
  /** The wire dialect answered (method table, error mapping, envelope); EPOS Data (EPOS_DATA) when absent. */
  dialect?: Dialect<Res, E>;
  logger: Logger;
  events: DojoEventIngest;
  /** Optional observer (the worker's metrics): stored responses replayed, and time spent in the database per method. */
  observe?: RpcObserver;
  /**
   * A gateway's copy of the orders it read (GATEWAY_READ_CACHE): reads of orders answer from it when it holds them.
   * Only reads use it; a change always reads Postgres under its locks.
   */
  orderCache?: OrderReadCache;
}

/** What the dispatcher reports to the app's metrics; no metrics library here. */
export interface RpcObserver {
  /** A request answered with a stored response. */
  replayed(method: string): void;
  /** Seconds of database work of one request: the transaction of a mutating method, or the use-case of a read. */
  dbTime(method: string, seconds: number): void;
}

/** A request of any dialect: the method is the dialect's wire method. */
type Job = Omit<RpcJob, 'replyTo' | 'method'> & { method: string };
/** processed_requests keeps any dialect's method name (the column is text). */
type StoredJob = Parameters<typeof ProcessedRequests.insertCte>[1];

/** Raised inside a transaction that reached the request's deadline before committing. */
class DeadlinePassed extends Error {}

/** A refusal worded by the dialect for the dispatcher itself (method not served, request id reused). */
class Refused<E> extends Error {
  constructor(readonly error: E) {
    super('refused by the dialect');
  }
}

/**
 * Answers one request of a wire dialect (Dojo's EPOS Data API unless
 * deps.dialect says otherwise; see rpc/dialect.ts) for one location: looks
 * the method up in the dialect's method table (EPOS Data:
 * dialects/epos-data/method-table.ts), maps the params to a command, runs the
 * use-case scoped to job.locationId and maps its result (or refusal) to the
 * dialect's response. Transport-free: the worker app feeds it
 * BullMQ jobs, the gateway's in-process benchmark calls handle() directly.
 *
 * Methods that change state run in one interactive transaction that
 * - is serialised per (locationId, rpcId) and answers a repeated id from
 *   processed_requests instead of executing again;
 * - never commits after job.deadline (statement timeout, transaction timeout
 *   and a final check before commit), so a late answer means nothing applied;
 * - writes the processed_requests row together with the side effects, with
 *   a plain INSERT: if the gateway stored its own error answer for the id at
 *   the deadline first (ProcessedRequests.claimAtDeadline), that insert fails,
 *   everything rolls back and the stored error is the answer.
 */
export class RpcDispatcher<Res = JsonRpcResponse, E = EposError> {
  /** Method table, error mapping and envelope of the dialect answered. */
  private readonly dialect: Dialect<Res, E>;

  private readonly processed: ProcessedRequests;

  /** What reads run on: the repositories' raw statements straight on pg (rawOnPg), together under load when the dialect's reads are pure. */
  private readonly reads: ExecContext['db'];

  constructor(private readonly deps: RpcDispatcherDeps<Res, E>) {
    // The default type arguments are EPOS Data's: without a dialect, Res and E are JsonRpcResponse and EposError.
    this.dialect = deps.dialect ?? (EPOS_DATA as unknown as Dialect<Res, E>);
    this.processed = new ProcessedRequests(deps.prisma);
    this.reads = rawOnPg(deps.prisma, { onlyReads: this.dialect.pureReads === true, orderCache: deps.orderCache });
  }

  async handle(job: Job): Promise<Res> {
    const started = Date.now();
    const log = lazyChild(this.deps.logger, () => ({ rpcId: job.rpcId, locationId: job.locationId, traceId: job.traceId, method: job.method }));
    const dialect = this.dialect;
    let response: Res;
    try {
      const result = await this.run(job, log);
      response = 'replay' in result ? result.replay : dialect.success(job.rpcId, result.value);
      if ('replay' in result) this.deps.observe?.replayed(job.method);
      log.info({ ms: Date.now() - started, replayed: 'replay' in result }, 'rpc answered');
    } catch (err) {
      if (err instanceof ReplyWithheld) throw err;
      const e = this.toError(err, job, log);
      response = dialect.failure(job.rpcId, e, job.traceId);
      log.info({ ms: Date.now() - started, ...dialect.describe(e) }, 'rpc refused');
    }
    return response;
  }

  /** The dialect's error for what the request threw: a refusal as mapped by the dialect, a deadline, or unexpected. */
  private toError(err: unknown, job: Job, log: Logger): E {
    if (err instanceof Refused) return err.error as E;
    const refused = this.dialect.refusal(err, job.method);
    if (refused !== undefined) return refused;
    if (err instanceof DeadlinePassed || isTimeout(err)) {
      log.warn({ deadline: new Date(job.deadline).toISOString() }, 'deadline reached before commit; rolled back');
      return this.dialect.deadlinePassed(job.method);
    }
    log.error({ err }, 'rpc failed unexpectedly');
    return this.dialect.unexpected();
  }

  private async run(job: Job, log: Logger): Promise<{ value: unknown } | { replay: Res }> {
    const raw = (job.params ?? {}) as Record<string, unknown>;
    const { headers: _headers, ...params } = raw;
    const ctx = (db: ExecContext['db']): ExecContext => ({
      db,
      locationId: job.locationId,
      rpcId: job.rpcId,
      traceId: job.traceId,
      log,
      now: new Date(),
      deadline: job.deadline,
    });

    const dialect = this.dialect;
    if (job.method === dialect.eventMethod) {
      if (Date.now() >= job.deadline) throw new DeadlinePassed();
      const stored = await this.deps.events.ingest({ payload: params as unknown as DojoEventPayload, channel: 'socket', locationId: job.locationId, traceId: job.traceId });
      log.info({ eventRowId: stored.eventRowId, duplicate: stored.duplicate }, 'dojo event stored');
      return { value: {} };
    }

    const method = Object.prototype.hasOwnProperty.call(dialect.methods, job.method) ? dialect.methods[job.method] : undefined;
    if (!method) throw new Refused(dialect.unknownMethod(job.method));
    const t0 = performance.now();
    const observe = this.deps.observe;
    const req = { settings: job.settings ?? {} };
    if (!dialect.mutates(job.method)) {
      const c = ctx(this.reads);
      try {
        const p = method.resolve ? await method.resolve(c.db, job.locationId, params) : params;
        return { value: method.toWire(await method.useCase.execute(c, method.toCommand(p, c.now, req)), log) };
      } finally {
        observe?.dbTime(job.method, (performance.now() - t0) / 1000);
      }
    }

    const remaining = job.deadline - Date.now();
    if (remaining <= 0) throw new DeadlinePassed();
    try {
      return await this.mutate(job, method, params, req, ctx, remaining, log).finally(() => observe?.dbTime(job.method, (performance.now() - t0) / 1000));
    } catch (err) {
      if (err instanceof Refused || dialect.refusal(err, job.method) !== undefined) throw err;
      // Failed, and rolled back unless the failure came after Postgres took the COMMIT (a connection lost with its
      // answer). An answer stored for this id is then either ours (committed) or the gateway's error stored at the
      // deadline before our commit, which Dojo has been told; either way it stands.
      let stored: Awaited<ReturnType<ProcessedRequests['find']>>;
      try {
        stored = await this.processed.find(job.locationId, job.rpcId, dialect.name);
      } catch {
        // Postgres cannot say whether the commit happened: no reply rather than a "not applied" that may be false.
        log.warn({ err: (err as Error)?.message }, 'the request failed and Postgres cannot say whether it committed; no reply, the deadline claim answers');
        throw new ReplyWithheld('the outcome of the commit is unknown');
      }
      if (stored && stored.method === job.method) {
        log.warn(
          { deadline: new Date(job.deadline).toISOString() },
          'the gateway answered this request at its deadline before it committed; rolled back, nothing was applied',
        );
        return { replay: stored.response as Res };
      }
      throw err;
    }
  }

  private mutate(
    job: Job,
    method: MethodEntry,
    params: Record<string, unknown>,
    req: RequestSettings,
    ctx: (db: ExecContext['db']) => ExecContext,
    remaining: number,
    log: Logger,
  ): Promise<{ value: unknown } | { replay: Res }> {
    // A planned change's statements are all raw SQL: its transaction runs on pg directly (runPlannedTransaction).
    return (method.useCase.plan ? runPlannedTransaction : runInTransaction)(
      this.deps.prisma,
      async (tx) => {
        const c = ctx(tx);
        // A refusal of the params is thrown where the use-case would run (after the replay check), as before the mapping existed.
        let cmd: unknown;
        let refused: { err: unknown } | undefined;
        try {
          // A dialect's lookup of its own ids (session UUID -> order id) reads before the plan, which needs the order id.
          const p = method.resolve ? await method.resolve(tx, job.locationId, params) : params;
          cmd = method.toCommand(p, c.now, req);
        } catch (err) {
          refused = { err };
        }
        const plan: MutationPlan | undefined = refused ? undefined : method.useCase.plan?.(job.locationId, cmd, c.now);
        // With the locks held, one statement reads the stored answer to this id and what the plan asks for.
        const first = await this.open(tx, job, plan, String(Math.max(1, remaining)));
        if (first.method !== null) {
          if (first.method !== job.method) {
            throw new Refused(this.dialect.idReused(job.rpcId, first.method));
          }
          log.info('request id already processed; answering with the stored response');
          return { replay: jsonValue<Res>(first.response) };
        }
        if (refused) throw refused.err;
        if (plan) c.planned = { pre: first.pre };
        // The wire response, mapped once: where the use-case folds the stored response into its last write, or after it.
        let wire: { value: unknown } | undefined;
        // A plain INSERT: when the gateway already stored its deadline answer for this id, it fails and all rolls back.
        const storeCte = (name: string, result: unknown) => {
          wire = { value: method.toWire(result, log) };
          // Stored as the dialect's envelope (processed_requests holds any dialect's JSON answer).
          // The change's last write (ExecContext.storeResponse): on pg it goes out with COMMIT, in one round trip.
          return finalWrite(
            ProcessedRequests.insertCte(name, { ...(job as StoredJob), dialect: this.dialect.name }, this.dialect.success(job.rpcId, wire.value) as JsonRpcResponse),
          );
        };
        c.storeResponse = storeCte;
        const result = await method.useCase.execute(c, cmd);
        if (!wire) await runWrites(tx, [storeCte('pr', result)]);
        const value = wire!.value;
        // Before the last write and COMMIT are sent (together, on pg): past the deadline, nothing is committed.
        if (Date.now() >= job.deadline) throw new DeadlinePassed();
        return { value };
      },
      { maxWait: Math.max(1, remaining), timeout: Math.max(1, remaining) + 500 },
    );
  }

  /**
   * Opens a state-changing request's transaction and reads what it decides on:
   * sets the statement timeout and takes, in this order, the request's
   * advisory lock (serialises a repeated id), the plan's advisory locks and
   * the plan's order row lock; then reads the stored answer to this id with
   * the plan's read. The first statement only tries the locks (it runs before
   * the timeout applies, so it must not wait); on pg the read goes out with
   * it (and BEGIN): one round trip when every lock was free. Whatever could
   * not be taken is then waited for, one statement each, under the timeout,
   * in the same order, and the read runs again with all of them held (the
   * read sent along was made without them: discarded).
   */
  private async open(tx: Tx, job: Job, plan: MutationPlan | undefined, timeoutMs: string): Promise<StoredWithPlan> {
    const keys = [requestIdempotencyKey(job.locationId, job.rpcId, this.dialect.name), ...(plan?.advisoryKeys ?? [])];
    const orderId = plan?.orderId;
    const rowLock = orderId !== undefined ? OrdersRepository.rowLockNotTakenSql(job.locationId, orderId) : undefined;
    const read = storedWithPlanSql(job.locationId, job.rpcId, plan?.read, this.dialect.name);
    const { held, rows } = await tryLocksAndRead<StoredWithPlan>(tx, timeoutMs, keys, rowLock, read);
    if (rows) return rows[0]!;
    for (let i = held; i < keys.length; i++) await waitForAdvisoryLock(tx, keys[i]!);
    // Not taken: held by another transaction, or no such order (the use-case's read then finds none).
    if (orderId !== undefined && held <= keys.length) {
      await ordersRepo(tx).lockRowIfExists(job.locationId, orderId);
    }
    return readStoredWithPlan(tx, job.locationId, job.rpcId, plan?.read, this.dialect.name);
  }
}

/** Prisma's transaction timeouts and Postgres' statement timeout (57014). */
function isTimeout(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown } | null;
  if (!e) return false;
  if (e.code === 'P2028' || e.code === 'P1008' || e.code === '57014') return true;
  const msg = String(e.message ?? '');
  return /statement timeout|Transaction API error|transaction.*(expired|timeout|closed)|Unable to start a transaction/i.test(msg);
}
