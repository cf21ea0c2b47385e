import { Job, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import { EposError, failure, JsonRpcResponse, QueueName, RpcJob } from '@app/contracts';
import { ReplyPublisher } from './reply-stream';

export type RpcHandler = (job: RpcJob) => Promise<JsonRpcResponse>;

export interface RpcWorkerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  handler: RpcHandler;
  onError?: (err: unknown, job: RpcJob) => void;
}

/**
 * The worker's side of the request path: takes RPC jobs, runs the handler and
 * appends the response to the requesting gateway replica's reply stream. A job
 * whose deadline already passed is answered with an error without running.
 */
export class RpcWorkerHost {
  private readonly worker: Worker<RpcJob>;
  private readonly publisher: Redis;
  private readonly replies: ReplyPublisher;
  private readonly workerConnection: Redis;

  constructor(private readonly opts: RpcWorkerOptions) {
    this.publisher = createRedis(opts.redisUrl, 'command');
    this.replies = new ReplyPublisher(this.publisher);
    this.workerConnection = createRedis(opts.redisUrl, 'blocking');
    this.worker = new Worker<RpcJob>(QueueName.Rpc, (job) => this.process(job), {
      connection: this.workerConnection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      autorun: false,
      // A crashed worker's job is not retried: the gateway's deadline has long passed by then.
      maxStalledCount: 0,
    });
    this.worker.on('error', () => undefined);
  }

  private async process(job: Job<RpcJob>): Promise<void> {
    const data = job.data;
    let response: JsonRpcResponse;
    if (Date.now() >= data.deadline) {
      response = failure(
        data.rpcId,
        new EposError('UnexpectedError', `${data.method} reached the EPOS after its deadline; it was not applied`).toBody(data.traceId),
      );
    } else {
      try {
        response = await this.opts.handler(data);
      } catch (err) {
        this.opts.onError?.(err, data);
        response = failure(data.rpcId, EposError.unexpected().toBody(data.traceId));
      }
    }
    await this.replies.publish(data.replyTo, { jobId: job.id!, response });
  }

  start(): void {
    void this.worker.run().catch(() => undefined);
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker.close();
    this.publisher.disconnect();
    // BullMQ does not close a connection it was given.
    this.workerConnection.disconnect();
  }
}
