import type { JsonRpcResponse, RpcRequest } from '@app/contracts';
import { EPOS_DATA } from '../dialects/epos-data/dialect';
import type { Dialect } from './dialect';
import type { RpcDispatcherDeps } from './rpc-dispatcher';
import { RpcDispatcher } from './rpc-dispatcher';

/** The dialect of a job: the one it names, epos-data for jobs that name none. */
const dialectName = (job: Pick<RpcRequest, 'dialect'>): string => job.dialect ?? EPOS_DATA.name;

/**
 * Answers each request in the dialect its job names (RpcJob.dialect, set by
 * the gateway's connection profile): one RpcDispatcher per dialect, sharing
 * the use-cases, rules and repositories. A job naming a dialect this worker
 * does not know (a newer gateway during a rollout) is answered "not applied"
 * in EPOS Data's error form, which every profile re-words into its own.
 */
export class DialectRouter {
  private readonly dispatchers = new Map<string, { dialect: Dialect<unknown, unknown>; dispatcher: RpcDispatcher<unknown, unknown> }>();

  constructor(deps: Omit<RpcDispatcherDeps<unknown, unknown>, 'dialect'>, dialects: readonly Dialect<unknown, unknown>[]) {
    for (const dialect of dialects) this.dispatchers.set(dialect.name, { dialect, dispatcher: new RpcDispatcher({ ...deps, dialect }) });
  }

  get names(): string[] {
    return [...this.dispatchers.keys()];
  }

  handle(job: Omit<RpcRequest, 'replyTo'>): Promise<JsonRpcResponse> {
    const d = this.dispatchers.get(dialectName(job));
    if (!d) return Promise.resolve(this.refuse(job, `requests of dialect ${dialectName(job)} are not served by this worker; nothing was applied`));
    return d.dispatcher.handle(job) as Promise<JsonRpcResponse>;
  }

  /** The job's dialect's "nothing was applied" answer (the worker host's refusals: late, superseded, crashed). */
  refuse(job: Pick<RpcRequest, 'dialect' | 'rpcId' | 'traceId'>, message: string): JsonRpcResponse {
    const d = this.dispatchers.get(dialectName(job))?.dialect ?? (EPOS_DATA);
    return d.failure(job.rpcId, d.notApplied(message), job.traceId) as JsonRpcResponse;
  }
}
