import type { Logger } from '@app/common';
import {
  DojoEventPayload,
  EposError,
  EposMethod,
  failure,
  JsonRpcResponse,
  METHOD_INFO,
  RpcJob,
  success,
} from '@app/contracts';
import { Prisma } from '@app/db';
import type { PrismaClient } from '@app/db';
import { ListAreas } from '../areas/usecases/list-areas.usecase';
import { GetOrderBillById } from '../bills/usecases/get-order-bill-by-id.usecase';
import { CreateOrderLock } from '../locks/usecases/create-order-lock.usecase';
import { DeleteOrderLock } from '../locks/usecases/delete-order-lock.usecase';
import { ExtendOrderLock } from '../locks/usecases/extend-order-lock.usecase';
import { CancelOrderById } from '../orders/usecases/cancel-order-by-id.usecase';
import { CreateOrder } from '../orders/usecases/create-order.usecase';
import { GetOrderById } from '../orders/usecases/get-order-by-id.usecase';
import { SearchOrders } from '../orders/usecases/search-orders.usecase';
import { CreateParty } from '../parties/usecases/create-party.usecase';
import { DeletePartyById } from '../parties/usecases/delete-party-by-id.usecase';
import { GetPartyById } from '../parties/usecases/get-party-by-id.usecase';
import { SearchParties } from '../parties/usecases/search-parties.usecase';
import { UpdateParty } from '../parties/usecases/update-party.usecase';
import { RecordOrderPayment } from '../payments/usecases/record-order-payment.usecase';
import { CreateReservation } from '../reservations/usecases/create-reservation.usecase';
import { DeleteReservationById } from '../reservations/usecases/delete-reservation-by-id.usecase';
import { GetReservationById } from '../reservations/usecases/get-reservation-by-id.usecase';
import { SearchReservations } from '../reservations/usecases/search-reservations.usecase';
import { UpdateReservation } from '../reservations/usecases/update-reservation.usecase';
import { SearchTables } from '../tables/usecases/search-tables.usecase';
import { requestIdempotencyKey } from '../core/rules';
import { jsonValue } from '../shared/json-value';
import { ordersRepo, OrdersRepository } from '../repositories/orders.repository';
import type { Tx } from '../shared/tx';
import { runWrites } from '../shared/write-sql';
import type { ExecContext, MutationPlan, UseCase } from './exec-context';
import { ProcessedRequests } from './processed-requests';

/** The Dojo events pipeline as the dispatcher needs it (IngestDojoEvent implements it). */
export interface DojoEventIngest {
  ingest(cmd: { payload: DojoEventPayload; channel: 'socket'; locationId: string }): Promise<{ eventRowId: string; duplicate: boolean }>;
}

export interface RpcDispatcherDeps {
  prisma: PrismaClient;
  logger: Logger;
  events: DojoEventIngest;
}

type Job = Omit<RpcJob, 'replyTo'>;

/** Raised inside a transaction that reached the request's deadline before committing. */
class DeadlinePassed extends Error {}

/**
 * Answers one JSON-RPC request of Dojo's EPOS Data API for one location: picks
 * the method's use-case, runs it scoped to job.locationId and turns the result
 * or error into the JSON-RPC response. Transport-free: the worker app feeds it
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
export class RpcDispatcher {
  private readonly handlers: Record<Exclude<EposMethod, 'HandleEventV1'>, UseCase<any, unknown>> = {
    SearchOrdersV1: new SearchOrders(),
    GetOrderByIdV1: new GetOrderById(),
    CancelOrderByIdV1: new CancelOrderById(),
    CreateOrderV1: new CreateOrder(),
    CreateOrderLockV1: new CreateOrderLock(),
    DeleteOrderLockV1: new DeleteOrderLock(),
    ExtendOrderLockV1: new ExtendOrderLock(),
    GetOrderBillByIdV1: new GetOrderBillById(),
    RecordOrderPaymentByIdV1: new RecordOrderPayment(),
    ListAreasV1: new ListAreas(),
    SearchTablesV1: new SearchTables(),
    SearchPartiesV1: new SearchParties(),
    GetPartyByIdV1: new GetPartyById(),
    CreatePartyV1: new CreateParty(),
    UpdatePartyV1: new UpdateParty(),
    DeletePartyByIdV1: new DeletePartyById(),
    SearchReservationsV1: new SearchReservations(),
    GetReservationByIdV1: new GetReservationById(),
    CreateReservationV1: new CreateReservation(),
    UpdateReservationV1: new UpdateReservation(),
    DeleteReservationByIdV1: new DeleteReservationById(),
  };

  private readonly processed: ProcessedRequests;

  constructor(private readonly deps: RpcDispatcherDeps) {
    this.processed = new ProcessedRequests(deps.prisma);
  }

  async handle(job: Job): Promise<JsonRpcResponse> {
    const started = Date.now();
    const log = this.deps.logger.child({ rpcId: job.rpcId, locationId: job.locationId, traceId: job.traceId, method: job.method });
    let response: JsonRpcResponse;
    try {
      const result = await this.run(job, log);
      response = 'replay' in result ? result.replay : success(job.rpcId, result.value);
      log.info({ ms: Date.now() - started, replayed: 'replay' in result }, 'rpc answered');
    } catch (err) {
      response = failure(job.rpcId, this.toError(err, job, log).toBody(job.traceId));
      const e = (response as { error: { errorType: string; debugMessage: string } }).error;
      log.info({ ms: Date.now() - started, errorType: e.errorType, debugMessage: e.debugMessage }, 'rpc refused');
    }
    return response;
  }

  private toError(err: unknown, job: Job, log: Logger): EposError {
    if (err instanceof EposError) return err;
    if (err instanceof DeadlinePassed || isTimeout(err)) {
      log.warn({ deadline: new Date(job.deadline).toISOString() }, 'deadline reached before commit; rolled back');
      return EposError.unexpected(`${job.method} could not finish before its deadline; it was rolled back and nothing was applied`);
    }
    log.error({ err }, 'rpc failed unexpectedly');
    return EposError.unexpected();
  }

  private async run(job: Job, log: Logger): Promise<{ value: unknown } | { replay: JsonRpcResponse }> {
    const raw = (job.params ?? {}) as Record<string, unknown>;
    const { headers: _headers, ...params } = raw;
    const ctx = (db: ExecContext['db']): ExecContext => ({
      db,
      locationId: job.locationId,
      rpcId: job.rpcId,
      traceId: job.traceId,
      log,
      now: new Date(),
    });

    if (job.method === 'HandleEventV1') {
      if (Date.now() >= job.deadline) throw new DeadlinePassed();
      const stored = await this.deps.events.ingest({ payload: params as unknown as DojoEventPayload, channel: 'socket', locationId: job.locationId });
      log.info({ eventRowId: stored.eventRowId, duplicate: stored.duplicate }, 'dojo event stored');
      return { value: {} };
    }

    const useCase = this.handlers[job.method];
    if (!useCase) throw EposError.invalid(`method ${String(job.method)} is not served by this EPOS`);
    if (!METHOD_INFO[job.method].mutates) return { value: await useCase.execute(ctx(this.deps.prisma), params) };

    const remaining = job.deadline - Date.now();
    if (remaining <= 0) throw new DeadlinePassed();
    try {
      return await this.mutate(job, useCase, params, ctx, remaining, log);
    } catch (err) {
      if (err instanceof EposError) throw err;
      // Rolled back. If an answer to this id is stored now, it was not ours: the gateway stored its error at the
      // deadline (before our commit), and Dojo has been told nothing was applied. That answer stands.
      const stored = await this.processed.find(job.locationId, job.rpcId).catch(() => undefined);
      if (stored && stored.method === job.method) {
        log.warn(
          { deadline: new Date(job.deadline).toISOString() },
          'the gateway answered this request at its deadline before it committed; rolled back, nothing was applied',
        );
        return { replay: stored.response };
      }
      throw err;
    }
  }

  private mutate(
    job: Job,
    useCase: UseCase<any, unknown>,
    params: Record<string, unknown>,
    ctx: (db: ExecContext['db']) => ExecContext,
    remaining: number,
    log: Logger,
  ): Promise<{ value: unknown } | { replay: JsonRpcResponse }> {
    return this.deps.prisma.$transaction(
      async (tx) => {
        const c = ctx(tx);
        const plan: MutationPlan | undefined = useCase.plan?.(job.locationId, params, c.now);
        await this.takeLocks(tx, job, plan, String(Math.max(1, remaining)));
        // With the locks held, one statement reads the stored answer to this id and what the plan asks for.
        const [first] = await tx.$queryRaw<{ method: string | null; response: unknown; pre: unknown }[]>`
          SELECT p.method, p.response, ${plan?.read ?? Prisma.sql`NULL::json`} AS pre
            FROM (SELECT 1) AS one
            LEFT JOIN processed_requests p ON p.location_id = ${job.locationId}::uuid AND p.rpc_id = ${job.rpcId}`;
        if (first!.method !== null) {
          if (first!.method !== job.method) {
            throw EposError.invalid(`JSON-RPC id ${job.rpcId} was already used for ${first!.method}; use a new id for a new request`);
          }
          log.info('request id already processed; answering with the stored response');
          return { replay: jsonValue<JsonRpcResponse>(first!.response) };
        }
        if (plan) c.planned = { pre: first!.pre };
        let stored = false;
        // A plain INSERT: when the gateway already stored its deadline answer for this id, it fails and all rolls back.
        const storeCte = (name: string, value: unknown) => {
          stored = true;
          return ProcessedRequests.insertCte(name, job, success(job.rpcId, value));
        };
        c.storeResponse = storeCte;
        const value = await useCase.execute(c, params);
        if (!stored) await runWrites(tx, [storeCte('pr', value)]);
        if (Date.now() >= job.deadline) throw new DeadlinePassed();
        return { value };
      },
      { maxWait: Math.max(1, remaining), timeout: Math.max(1, remaining) + 500 },
    );
  }

  /**
   * Opens a state-changing request's transaction: sets the statement timeout
   * and takes, in this order, the request's advisory lock (serialises a
   * repeated id), the plan's advisory locks and the plan's order row lock.
   * The first statement only tries them (it runs before the timeout applies,
   * so it must not wait); whatever it could not take is then waited for, one
   * statement each, under the timeout, in the same order.
   */
  private async takeLocks(tx: Tx, job: Job, plan: MutationPlan | undefined, timeoutMs: string): Promise<void> {
    const keys = [requestIdempotencyKey(job.locationId, job.rpcId), ...(plan?.advisoryKeys ?? [])];
    const orderId = plan?.orderId;
    const steps = keys.map((k, i) => Prisma.sql`WHEN NOT pg_try_advisory_xact_lock(hashtextextended(${k}, 0)) THEN ${i}::int`);
    if (orderId !== undefined) {
      steps.push(Prisma.sql`WHEN ${OrdersRepository.rowLockNotTakenSql(job.locationId, orderId)} THEN ${keys.length}::int`);
    }
    const [row] = await tx.$queryRaw<{ held: number }[]>`
      SELECT set_config('statement_timeout', ${timeoutMs}, true) AS t, CASE ${Prisma.join(steps, ' ')} ELSE ${steps.length}::int END AS held`;
    const held = Number(row!.held);
    for (let i = held; i < keys.length; i++) await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${keys[i]!}, 0))`;
    // Not taken: held by another transaction, or no such order (the use-case's read then finds none).
    if (orderId !== undefined && held <= keys.length) {
      await ordersRepo(tx).lockRowIfExists(job.locationId, orderId);
    }
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
