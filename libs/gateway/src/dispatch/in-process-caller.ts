import type { JsonRpcResponse } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import type { RpcCaller } from './request-dispatcher';

/** Whatever answers a job in the same process (RpcDispatcher from @app/domain in practice). */
export interface RpcJobHandler {
  handle(job: Omit<RpcJob, 'replyTo'>): Promise<JsonRpcResponse>;
}

/**
 * The request path without a queue: the gateway answers each request itself by
 * calling the handler directly (the architecture of a single-process
 * connector). The production path is RpcClient (BullMQ + a reply stream); this
 * one exists for the in-process baseline of the benchmarks and for tools that
 * want one process only. Same interface (RpcCaller plus start/close), so
 * GatewayManager takes either.
 */
export class InProcessRpcCaller implements RpcCaller {
  constructor(private readonly handler: RpcJobHandler) {}

  async start(): Promise<void> {
    /* nothing to connect */
  }

  call(job: Omit<RpcJob, 'replyTo'>): Promise<JsonRpcResponse> {
    return this.handler.handle(job);
  }

  async close(): Promise<void> {
    /* nothing to close */
  }
}
