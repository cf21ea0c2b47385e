import type { Logger } from '@app/common';
import type { Tx } from '../shared/tx';
import type { UseCase } from './exec-context';

/**
 * What a mapping may learn about the request besides its params: the
 * location's protocol settings as the gateway held them (RpcJob.settings;
 * e.g. the Tables API's enforceWaiterId), never a secret.
 */
export interface RequestSettings {
  settings: Readonly<Record<string, unknown>>;
}

/**
 * Before toCommand, a mapping whose wire names the venue's objects by ids of
 * its own (the Tables API's session UUIDs) may look them up: `resolve` runs
 * with the request's database handle (inside a change's transaction, before
 * its plan's locks) and returns the params toCommand receives. It reads
 * through repositories only.
 */
export type Resolve<P> = (db: Tx, locationId: string, params: P) => Promise<P>;

/**
 * One wire method of a dialect: its params to a command (toCommand, which may
 * refuse bad input with the dialect's wording; `now` is the request's clock),
 * the use-case that runs the command, and its result to the wire response
 * (toWire). RpcDispatcher reads only this.
 */
export interface MethodEntry<P = any, C = any, R = any, W = unknown> {
  resolve?: Resolve<P>;
  /** `req` is the request's settings (RpcDispatcher always passes them; none when absent). */
  toCommand(params: P, now: Date, req?: RequestSettings): C;
  useCase: UseCase<C, R>;
  toWire(result: R, log: Logger): W;
}

/** A dialect's method table: wire method -> (mapping, use-case). */
export type MethodTable = Readonly<Partial<Record<string, MethodEntry>>>;

const NO_SETTINGS: RequestSettings = { settings: {} };

/** A method table entry from a mapping ({toCommand, toWire}) and the use-case it feeds. */
export const methodEntry = <P, C, R, W>(
  mapping: { resolve?: Resolve<P>; toCommand(params: P, now: Date, req: RequestSettings): C; toWire(result: R, log: Logger): W },
  useCase: UseCase<C, R>,
): MethodEntry<P, C, R, W> => ({
  ...(mapping.resolve ? { resolve: mapping.resolve } : {}),
  toCommand: (params, now, req) => mapping.toCommand(params, now, req ?? NO_SETTINGS),
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
  /**
   * True when the methods that do not mutate only read: no statement of theirs writes, so under load their
   * statements may share a round trip with other requests' reads (SqlRunner.read). Absent: each runs on its own.
   */
  readonly pureReads?: boolean;
  /** The method that hands a Dojo event to the events pipeline (RpcDispatcherDeps.events), if the dialect has one. */
  readonly eventMethod?: string;
  /** The dialect's answer to a refusal (the core's DomainRefusal or the dialect's own error) of `method`; undefined for anything else. */
  refusal(err: unknown, method?: string): E | undefined;
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
