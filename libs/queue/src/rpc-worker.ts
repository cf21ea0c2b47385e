import type Redis from 'ioredis';
import type { HealthRegistry, Logger} from '@app/common';
import { createRedis, workerMetrics } from '@app/common';
import { parseRedisUrl } from '@app/config';
import type { JsonRpcResponse, RpcRequest } from '@app/contracts';
import { EposError, failure, isEposMethod, METHOD_INFO, ReplyWithheld } from '@app/contracts';
import type { RpcJob, RpcReply } from './catalog';
import { fenceKey, QueueName, rpcLogFields } from './catalog';
import { FAILOVER_RETRY_MS, retryAcrossFailover } from './failover-retry';
import { FenceWatch } from './fence-watch';
import { ReplyPublisher } from './reply-stream';
import type { RpcTransport } from './rpc-streams';
import { RpcStreamConsumer } from './rpc-streams';
import { QueueWorker } from './worker-host';

export type RpcHandler = (job: RpcJob) => Promise<JsonRpcResponse>;

export interface RpcWorkerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  handler: RpcHandler;
  /**
   * The job's dialect's error for a request this host refuses without running
   * it (picked up after its deadline, superseded fence) or whose handler threw.
   * An EPOS Data UnexpectedError when absent.
   */
  refuse?: (job: RpcRequest, message: string) => JsonRpcResponse;
  onError?: (err: unknown, job: RpcRequest) => void;
  logger?: Logger;
  health?: HealthRegistry;
  /** RPC_TRANSPORT: the request stream (rpc-streams.ts, the default) or a BullMQ queue. */
  transport?: RpcTransport;
  /** `streams` only: how long a dead worker's request stays pending before another worker takes it over (ms). */
  claimIdleMs?: number;
  /** `streams` only: requests go to one worker while it keeps up (RpcStreamConsumerOptions.concentrate). Default true. */
  concentrate?: boolean;
  /** `streams` with `concentrate`: a worker without the reader lease takes requests that waited this long (RpcStreamConsumerOptions.helpAfterMs). */
  helpAfterMs?: number;
}

/**
 * The worker's side of the request path: takes RPC jobs, runs the handler and
 * appends the response to the requesting gateway replica's reply stream. A job
 * is answered with an error without running when its deadline already passed,
 * or, for a method that changes state, when its fencing token is older than
 * the location's current one (the replica that sent it lost its lease, and
 * would drop the reply anyway; the token comes from the gateways' announcements, FenceWatch, without a Redis
 * round trip). A read is not checked: it changes nothing, and
 * its answer passes the sending replica's own fencing check before it reaches
 * the socket (one Redis round trip per read saved). A method this host does
 * not know (another dialect's) is checked. The jobs come from a BullMQ queue
 * (QueueWorker) or, with `transport: 'streams'`, from the request stream
 * (RpcStreamConsumer); the rules above are the same for both.
 */
export class RpcWorkerHost {
  private readonly worker: QueueWorker<typeof QueueName.Rpc> | RpcStreamConsumer;
  private readonly publisher: Redis;
  private readonly replies: ReplyPublisher;
  /** The locations' fencing tokens as announced by the gateways (none on a Redis Cluster: each check reads Redis). */
  private readonly fences?: FenceWatch;
  private readonly deadlineMisses = workerMetrics().deadlineMisses;

  constructor(private readonly opts: RpcWorkerOptions) {
    // Replies (XADD) and fencing checks (GET) of the jobs that finish in one event-loop turn go to Redis in one
    // write (ioredis auto-pipelining; only plain commands use this connection, never BullMQ's scripts).
    this.publisher = createRedis(opts.redisUrl, 'command', { enableAutoPipelining: true });
    this.replies = new ReplyPublisher(this.publisher);
    // A Cluster client's pub/sub connection can move to another node without a 'close' of its own, so an
    // announcement could be missed unnoticed there: on a Cluster every check reads the token from Redis.
    if (parseRedisUrl(opts.redisUrl).kind !== 'cluster') this.fences = new FenceWatch(opts.redisUrl, opts.prefix, this.publisher, opts.logger);
    this.worker = opts.transport !== 'bullmq'
      ? new RpcStreamConsumer(
        {
          redisUrl: opts.redisUrl,
          prefix: opts.prefix,
          concurrency: opts.concurrency,
          commands: this.publisher,
          logger: opts.logger,
          health: opts.health,
          claimIdleMs: opts.claimIdleMs,
          concentrate: opts.concentrate,
          helpAfterMs: opts.helpAfterMs,
        },
        (job) => this.process(job.jobId, job.data, job.finish),
      )
      : new QueueWorker(
      {
        queue: QueueName.Rpc,
        redisUrl: opts.redisUrl,
        prefix: opts.prefix,
        concurrency: opts.concurrency,
        logger: opts.logger,
        health: opts.health,
        describe: (d) => ({ locationId: d.locationId, method: d.method, rpcId: d.rpcId, traceId: d.traceId }),
        // A crashed worker's job is not retried: the gateway's deadline has long passed by then.
        worker: { maxStalledCount: 0 },
      },
      (job) => this.process(job.id!, job.data),
    );
  }

  /**
   * Whether this worker takes requests first: it holds the request stream's reader lease, or every worker does
   * (`concentrate` false, or the bullmq transport). The outbox follows it (OUTBOX_HELP_AFTER_MS).
   */
  get takesRequestsFirst(): boolean {
    return this.worker instanceof RpcStreamConsumer ? this.worker.blocking : true;
  }

  /** `finish`: the streams transport's XACK + XDEL of the request, issued with the reply so both go in one write. */
  private async process(jobId: string, data: RpcJob, finish?: () => Promise<void>): Promise<void> {
    /** Undefined: no reply (the gateway's deadline claim answers from what is stored). */
    let response: JsonRpcResponse | undefined;
    if (Date.now() >= data.deadline) {
      this.deadlineMisses.labels(data.method, 'picked_up_late').inc();
      this.log(data)?.warn({ deadline: new Date(data.deadline).toISOString() }, 'request picked up after its deadline; not run');
      // The gateway answers at its deadline whatever comes after it. A state-changing request's answer there comes from
      // processed_requests: this may be Dojo's retry of an id already committed, whose answer is the stored success,
      // so a "not applied" from here (had it come first) could be false. A read's refusal is always true.
      response = mutates(data) ? undefined : this.refuse(data, `${data.method} reached the EPOS after its deadline; it was not applied`);
    } else if (await this.superseded(data)) {
      this.log(data)?.warn({ fence: data.fence }, 'request from a connection that no longer owns the location; not run');
      response = this.refuse(data, `${data.method} came from a connection that no longer owns the location; it was not applied`);
    } else {
      try {
        response = await this.opts.handler(data);
      } catch (err) {
        if (!(err instanceof ReplyWithheld)) {
          this.opts.onError?.(err, data);
          response = this.refuse(data, EposError.unexpected().debugMessage);
        }
      }
      if (Date.now() >= data.deadline) this.deadlineMisses.labels(data.method, 'finished_late').inc();
    }
    // Both called in this turn: the reply's XADD and the entry's XACK + XDEL leave in one write of the auto-pipelining
    // connection (answered in one read). Acknowledging before the XADD is confirmed changes nothing: a job is never run
    // twice either way (a reply that still fails after its retries is left to the gateway's deadline, as a failed job is).
    await Promise.all([response === undefined ? undefined : this.reply(data, { jobId, response }), finish?.()]);
  }

  /**
   * ReplyPublisher.publish, tried again across a Redis failover (the first attempt is issued in the caller's turn)
   * until the request's deadline, past which the gateway has answered it itself. Without it the gateway waited for the
   * deadline and then found the answer in processed_requests (a state-changing request) or answered with an error (a
   * read). Also while this worker is closing: close() waits for the job, retries included.
   */
  private reply(data: RpcJob, reply: RpcReply): Promise<void> {
    // A second copy of a reply that did arrive is harmless: the gateway takes the first and ignores the rest.
    return retryAcrossFailover(() => this.replies.publish(data.replyTo, reply), { until: Math.min(Date.now() + FAILOVER_RETRY_MS, data.deadline) });
  }

  /** A request's lines carry its location, request id and trace (made only when a line is written). */
  private log(data: RpcRequest): Logger | undefined {
    return this.opts.logger?.child({ queue: QueueName.Rpc, ...rpcLogFields(data) });
  }

  private refuse(data: RpcRequest, message: string): JsonRpcResponse {
    if (this.opts.refuse) return this.opts.refuse(data, message);
    return failure(data.rpcId, new EposError('UnexpectedError', message).toBody(data.traceId));
  }

  /** True when a gateway replica has acquired the location's lease since this request was accepted. */
  private async superseded(data: RpcRequest): Promise<boolean> {
    // Reads cannot do harm when answered by a superseded replica's request; a method whose dialect says nothing is checked.
    if (!(data.fence > 0) || !mutates(data)) return false;
    const current = this.fences
      ? await this.fences.current(data.locationId).catch(() => null)
      : await this.publisher.get(fenceKey(this.opts.prefix, data.locationId)).then((v) => (v === null ? null : Number(v)), () => null);
    return current !== null && current > data.fence;
  }

  start(): void {
    void this.fences?.start();
    this.worker.start();
  }

  /** Ready to take requests; also subscribed to the fence announcements, unless that failed (checks then read Redis). */
  async waitUntilReady(): Promise<void> {
    await Promise.all([this.worker.waitUntilReady(), this.fences?.start()]);
  }

  /** True while this worker hears the gateways' fence announcements (false on a Redis Cluster). Diagnostics, tests. */
  get hearsFences(): boolean {
    return this.fences?.listening ?? false;
  }

  /** The fencing token this worker holds for a location without reading Redis (undefined: none). Diagnostics, tests. */
  heldFence(locationId: string): number | undefined {
    return this.fences?.held(locationId);
  }

  async close(): Promise<void> {
    await this.worker.close();
    this.fences?.close();
    this.publisher.disconnect();
  }
}

/** Whether the request may change state (its dialect says so; a method it says nothing of is taken to). */
function mutates(data: RpcRequest): boolean {
  return data.mutates ?? (isEposMethod(data.method) ? METHOD_INFO[data.method].mutates : true);
}
