import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import { EposError, failure, JsonRpcResponse } from '@app/contracts';
import { QueueName, RpcJob, RpcReply } from './catalog';
import { replyStreamKey, REPLY_STREAM_TTL_S } from './reply-stream';

export interface RpcClientOptions {
  redisUrl: string;
  prefix: string;
  /** Identity of this gateway replica: workers address replies to its stream. */
  replicaId: string;
}

interface Pending {
  resolve: (r: JsonRpcResponse) => void;
  timer: NodeJS.Timeout;
  rpcId: string;
}

/**
 * The gateway's side of the request path: publishes a JSON-RPC request as a
 * BullMQ job and waits for the worker's answer on this replica's own reply
 * stream (a Redis Stream read with XREAD BLOCK: no per-request listeners, and
 * replies written while the reader reconnects are not lost). QueueEvents /
 * waitUntilFinished are deliberately not used (see the README).
 */
export class RpcClient {
  private readonly queue: Queue;
  private readonly queueConnection: Redis;
  private readonly reader: Redis;
  private readonly pending = new Map<string, Pending>();
  private readonly stream: string;
  private lastId = '$';
  private running = false;
  private loop?: Promise<void>;

  constructor(opts: RpcClientOptions) {
    this.queueConnection = createRedis(opts.redisUrl, 'command');
    this.queue = new Queue(QueueName.Rpc, {
      connection: this.queueConnection,
      prefix: opts.prefix,
      // A completed job is deleted at once: its answer went to the reply stream and nothing reads it again (keeping
      // thousands for minutes cost a ZADD and a trim in Redis per request). Failed jobs are kept an hour for diagnosis.
      defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: { age: 3_600, count: 20_000 } },
    });
    this.reader = createRedis(opts.redisUrl, 'blocking');
    this.stream = replyStreamKey(opts.prefix, opts.replicaId);
  }

  get replyTo(): string {
    return this.stream;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Starts reading replies; call before the first request. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Read from "now": nothing can be addressed to this replica before it exists.
    const last = (await this.reader.xrevrange(this.stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    this.lastId = last[0]?.[0] ?? '0-0';
    this.loop = this.readLoop();
    await this.queue.waitUntilReady();
  }

  private async readLoop(): Promise<void> {
    while (this.running) {
      try {
        const res = (await this.reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', this.stream, this.lastId)) as
          | [string, [string, string[]][]][]
          | null;
        if (!res) continue;
        for (const [, entries] of res) {
          for (const [id, fields] of entries) {
            this.lastId = id;
            this.deliver(fields[1]);
          }
        }
      } catch (err) {
        if (!this.running) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private deliver(raw: string | undefined) {
    if (!raw) return;
    let reply: RpcReply;
    try {
      reply = JSON.parse(raw) as RpcReply;
    } catch {
      return;
    }
    const p = this.pending.get(reply.jobId);
    if (!p) return; // timed out already, or a reply for a previous incarnation
    this.pending.delete(reply.jobId);
    clearTimeout(p.timer);
    p.resolve(reply.response);
  }

  /**
   * Sends `job` to the workers and resolves with their JSON-RPC response, or
   * with an UnexpectedError response when the deadline passes first (the worker
   * will not commit after the deadline, so a failure reply means nothing was applied).
   */
  call(job: Omit<RpcJob, 'replyTo'>): Promise<JsonRpcResponse> {
    const jobId = randomUUID();
    return new Promise<JsonRpcResponse>((resolve) => {
      const ms = Math.max(0, job.deadline - Date.now());
      const timer = setTimeout(() => {
        this.pending.delete(jobId);
        resolve(
          failure(
            job.rpcId,
            new EposError('UnexpectedError', `the EPOS did not answer ${job.method} within its deadline; nothing was applied`).toBody(job.traceId),
          ),
        );
      }, ms);
      this.pending.set(jobId, { resolve, timer, rpcId: job.rpcId });
      const data: RpcJob = { ...job, replyTo: this.stream };
      this.queue.add(job.method, data, { jobId }).catch((err: Error) => {
        const p = this.pending.get(jobId);
        if (!p) return;
        this.pending.delete(jobId);
        clearTimeout(p.timer);
        resolve(
          failure(job.rpcId, new EposError('UnexpectedError', `the request could not be queued (${err.message}); nothing was applied`).toBody(job.traceId)),
        );
      });
    });
  }

  async close(): Promise<void> {
    this.running = false;
    this.reader.disconnect();
    await this.loop?.catch(() => undefined);
    await this.queue.close();
    // BullMQ does not close a connection it was given.
    this.queueConnection.disconnect();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
    }
  }
}

export { REPLY_STREAM_TTL_S };
