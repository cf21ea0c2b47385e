import type { JsonRpcResponse } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import { noAnswerInTime } from '@app/queue';
import type { RpcCaller } from './request-dispatcher';

/** Whatever answers a job in the same process (RpcDispatcher / DialectRouter from @app/domain in practice). */
export interface RpcJobHandler {
  handle(job: Omit<RpcJob, 'replyTo'>): Promise<JsonRpcResponse>;
}

/**
 * The request path without a queue: the gateway answers a request itself by
 * calling the handler directly. Two uses:
 * - the gateway's reads (GATEWAY_READS=local): a request whose profile says it
 *   only reads (ConnectionProfile.readsOnly) is answered by the replica that
 *   owns the socket, against Postgres, without the two Redis hops and the
 *   worker's wake-ups of the queue path; changes still go to the workers;
 * - the in-process baseline of the benchmarks, where every request runs here.
 *
 * Same deadline rule as RpcClient: when the handler has not answered by the
 * job's deadline, the caller answers `failure` (a read changes nothing, so the
 * late answer is simply dropped). Same interface (RpcCaller plus start/close),
 * so GatewayManager takes either.
 */
export class InProcessRpcCaller implements RpcCaller {
  /**
   * `late` hears of a job whose answer came after the caller had answered `failure` at the deadline (a change
   * may have committed then: the in-process benchmark tells its read cache).
   */
  constructor(
    private readonly handler: RpcJobHandler,
    private readonly late?: (job: Omit<RpcJob, 'replyTo'>) => void,
  ) {}

  async start(): Promise<void> {
    /* nothing to connect */
  }

  call(job: Omit<RpcJob, 'replyTo'>, failure?: (message: string) => JsonRpcResponse): Promise<JsonRpcResponse> {
    if (!failure) return this.handler.handle(job);
    // RpcClient's wording: the answer Dojo sees is the same whichever side missed the deadline.
    const late = () => failure(noAnswerInTime(job.method));
    const left = job.deadline - Date.now();
    // Already past its deadline: answered without running it (as a worker refuses a job it picks up late).
    if (left <= 0) return Promise.resolve(late());
    const answer = this.handler.handle(job);
    let timer: NodeJS.Timeout | undefined;
    let missedIt = false;
    const missed = new Promise<JsonRpcResponse>((resolve) => {
      timer = setTimeout(() => {
        missedIt = true;
        resolve(late());
      }, left);
    });
    if (this.late) {
      const hook = this.late;
      void answer.finally(() => missedIt && hook(job)).catch(() => undefined); // the race below reports the failure
    }
    return Promise.race([answer, missed]).finally(() => clearTimeout(timer));
  }

  async close(): Promise<void> {
    /* nothing to close */
  }
}
