import { takePlanInTransaction } from '../repositories/unit-of-work';
import type { ExecContext, UseCase } from './exec-context';

/**
 * Runs another use-case's change inside the caller's transaction, as
 * RpcDispatcher would run it alone: its plan's locks are taken and its read
 * made first (handed to it as ctx.planned), and it stores no response (the
 * caller's request stores one answer for the whole). For a use-case that acts
 * on several orders at once (a table) through the order use-cases.
 */
export async function planNestedChange<C>(ctx: ExecContext, useCase: UseCase<C, unknown>, cmd: C): Promise<ExecContext> {
  const plan = useCase.plan?.(ctx.locationId, cmd, ctx.now);
  const { storeResponse: _outer, planned: _own, ...rest } = ctx;
  const sub: ExecContext = { ...rest };
  if (plan) sub.planned = { pre: await takePlanInTransaction(ctx.db, ctx.locationId, plan) };
  return sub;
}

/** planNestedChange, then the use-case's execute. */
export async function runNestedChange<C, R>(ctx: ExecContext, useCase: UseCase<C, R>, cmd: C): Promise<R> {
  return useCase.execute(await planNestedChange(ctx, useCase, cmd), cmd);
}
