import type { Logger } from '@app/common';
import type { UseCase } from './exec-context';

/**
 * One wire method of a dialect: its params to a command (toCommand, which may
 * refuse bad input with the dialect's wording; `now` is the request's clock),
 * the use-case that runs the command, and its result to the wire response
 * (toWire). RpcDispatcher reads only this.
 */
export interface MethodEntry<P = any, C = any, R = any, W = unknown> {
  toCommand(params: P, now: Date): C;
  useCase: UseCase<C, R>;
  toWire(result: R, log: Logger): W;
}

/** A dialect's method table: wire method -> (mapping, use-case). */
export type MethodTable = Readonly<Partial<Record<string, MethodEntry>>>;

/** A method table entry from a mapping ({toCommand, toWire}) and the use-case it feeds. */
export const methodEntry = <P, C, R, W>(
  mapping: { toCommand(params: P, now: Date): C; toWire(result: R, log: Logger): W },
  useCase: UseCase<C, R>,
): MethodEntry<P, C, R, W> => ({
  toCommand: (params, now) => mapping.toCommand(params, now),
  toWire: (result, log) => mapping.toWire(result, log),
  useCase,
});

/**
 * A wire dialect as RpcDispatcher needs it: its method table, which methods
 * change state (those run in one transaction with the plan's locks and are
 * answered once per request id from processed_requests), the mapping of
 * errors (the core's DomainRefusal, or the dialect's own refusals thrown by
 * its mappings) to its error type `E`, and its response envelope `Res`.
 * EPOS Data is dialects/epos-data/dialect.ts (EPOS_DATA); a second dialect
 * adds its own object of this shape and reuses the dispatcher, the use-cases
 * and the rules unchanged.
 */
export interface Dialect<Res = unknown, E = unknown> {
  readonly name: string;
  readonly methods: MethodTable;
  /** Whether the method changes state (transaction, locks, replay of a repeated request id). */
  mutates(method: string): boolean;
  /** The method that hands a Dojo event to the events pipeline (RpcDispatcherDeps.events), if the dialect has one. */
  readonly eventMethod?: string;
  /** The dialect's answer to a refusal (the core's DomainRefusal or the dialect's own error); undefined for anything else. */
  refusal(err: unknown): E | undefined;
  /** A method not in the table. */
  unknownMethod(method: string): E;
  /** A request id already answered for another method. */
  idReused(rpcId: string, storedMethod: string): E;
  /** Nothing was applied because the request's deadline came first. */
  deadlinePassed(method: string): E;
  /** An unexpected failure (details only in the log). */
  unexpected(): E;
  /** Nothing was applied, for a reason of the platform's own that `message` states (picked up late, superseded link). */
  notApplied(message: string): E;
  success(rpcId: string, value: unknown): Res;
  failure(rpcId: string, error: E, traceId: string): Res;
  /** What the dispatcher logs about a refused request. */
  describe(error: E): Record<string, unknown>;
}
