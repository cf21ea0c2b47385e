import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { Logger } from '@app/common';
import { createRedis } from '@app/common';
import type { JsonRpcResponse} from '@app/contracts';
import { EposError, failure, isEposMethod, METHOD_INFO } from '@app/contracts';
import type { RpcJob, RpcReply } from './catalog';
import { QueueName, queuePrefix, rpcLogFields } from './catalog';
import { FAILOVER_RETRY_MS, retryAcrossFailover } from './failover-retry';
import { replyStreamKey } from './reply-stream';
import type { RpcTransport } from './rpc-streams';
import { StreamRpcSender } from './rpc-streams';

export interface RpcClientOptions {
  redisUrl: string;
  prefix: string;
  /** Identity of this gateway replica: workers address replies to its stream. */
  replicaId: string;
  /**
   * Settles a state-changing request the gateway is about to answer with an
   * error itself (deadline passed, or it could not be queued): stores that
   * error as the request's answer so no commit can follow, or returns the
   * answer already committed. Throws when that cannot be known (Postgres
   * unreachable): the error is then not sent. ProcessedRequests.claimAtDeadline
   * (@app/domain) in production. Without it, such requests get the error
   * directly (tests and tools only).
   */
  claim?: (job: Omit<RpcJob, 'replyTo'>, error: JsonRpcResponse) => Promise<{ claimed: boolean; response: JsonRpcResponse }>;
  logger?: Logger;
  /** First wait before a failed claim is tried again (doubling, at most 5 s). */
  claimRetryMs?: number;
  /** RPC_TRANSPORT: requests as entries of the request stream (rpc-streams.ts, the default) or as BullMQ jobs. */
  transport?: RpcTransport;
  /**
   * A request that could not be sent is sent again for this long (ms, default 3000; never past its deadline) before
   * the gateway answers it with an error itself. Covers a Redis Cluster or Sentinel failover, whose new master answers
   * a few seconds after the old one died: without it, every request sent in between was refused, and for a
   * state-changing one that refusal is its stored answer, which Dojo's retries of the same id then get too.
   */
  sendRetryMs?: number;
}

interface Pending {
  resolve: (r: JsonRpcResponse) => void;
  /** The caller's wording of this client's own error (its profile's error form). */
  failure?: (message: string) => JsonRpcResponse;
  timer: NodeJS.Timeout;
  rpcId: string;
  /** A claim is running or scheduled: the worker's reply is still taken if it comes first. */
  claiming?: boolean;
}

const CLAIM_RETRY_MAX_MS = 5_000;
/** BullMQ transport: a completed RPC job is kept this long past the longest resend of its request (clock skew margin). */
const KEEP_COMPLETED_MARGIN_S = 5;
/** A send is not tried again when less than this is left before the deadline (the worker would not have time). */
const SEND_MIN_TIME_LEFT_MS = 1_000;
const CLOSE_TIMEOUT_MS = 2_000;

async function bounded(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** The gateway's answer to a request nobody answered by its deadline (RpcClient, and a read answered in the gateway). */
export function noAnswerInTime(method: string): string {
  return `the EPOS did not answer ${method} within its deadline; nothing was applied`;
}

/**
 * The gateway's side of the request path: publishes a JSON-RPC request as a
 * BullMQ job and waits for the worker's answer on this replica's own reply
 * stream (a Redis Stream read with XREAD BLOCK: no per-request listeners, and
 * replies written while the reader reconnects are not lost). QueueEvents /
 * waitUntilFinished are deliberately not used (see the README).
 */
export class RpcClient {
  private readonly opts: RpcClientOptions;
  /** BullMQ transport only. */
  private readonly queue?: Queue;
  private readonly queueConnection: Redis;
  /** Streams transport only. */
  private readonly sender?: StreamRpcSender;
  private readonly reader: Redis;
  private readonly pending = new Map<string, Pending>();
  private readonly stream: string;
  private lastId = '$';
  private running = false;
  private loop?: Promise<void>;

  constructor(opts: RpcClientOptions) {
    this.opts = opts;
    if (opts.transport !== 'bullmq') {
      // Plain XADDs only on this connection: the requests of one event-loop turn go to Redis in one write.
      this.queueConnection = createRedis(opts.redisUrl, 'command', { enableAutoPipelining: true });
      this.sender = new StreamRpcSender(this.queueConnection, opts.prefix);
    } else {
      this.queueConnection = createRedis(opts.redisUrl, 'command');
      this.queue = this.bullQueue();
    }
    this.reader = createRedis(opts.redisUrl, 'blocking');
    this.stream = replyStreamKey(opts.prefix, opts.replicaId);
  }

  private bullQueue(): Queue {
    const queue = new Queue(QueueName.Rpc, {
      connection: this.queueConnection,
      prefix: queuePrefix(this.opts.prefix, QueueName.Rpc),
      // A completed job is kept only a few seconds longer than a resend of its request may come (sendRetryMs): a
      // resend after an add that reached Redis but failed here then finds the id and adds nothing, where a job deleted
      // at once would run the request a second time. Its answer went to the reply stream and nothing else reads it.
      // Failed jobs are kept an hour for diagnosis.
      defaultJobOptions: {
        attempts: 1,
        removeOnComplete: { age: Math.ceil((this.opts.sendRetryMs ?? FAILOVER_RETRY_MS) / 1000) + KEEP_COMPLETED_MARGIN_S },
        removeOnFail: { age: 3_600, count: 20_000 },
      },
    });
    // Connection errors surface as failed add() calls (logged with the request); no unhandled 'error' events.
    queue.on('error', () => undefined);
    return queue;
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
    await (this.queue ? this.queue.waitUntilReady() : this.queueConnection.ping());
  }

  private async readLoop(): Promise<void> {
    while (this.running) {
      try {
        const res = (await this.reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', this.stream, this.lastId));
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
   * with an UnexpectedError response when the deadline passes first or the job
   * cannot be queued. Such an error always means nothing was applied: for a
   * read nothing could be; for a state-changing request it is sent only once
   * `claim` has stored it as the request's answer (a worker commit after that
   * is refused), and if the worker's commit came first, its answer is sent
   * instead. The error text is stable; what went wrong is logged under the
   * traceId.
   */
  call(job: Omit<RpcJob, 'replyTo'>, failure?: (message: string) => JsonRpcResponse): Promise<JsonRpcResponse> {
    const jobId = randomUUID();
    return new Promise<JsonRpcResponse>((resolve) => {
      const ms = Math.max(0, job.deadline - Date.now());
      const timer = setTimeout(() => {
        this.log(job)?.warn({ jobId, deadline: new Date(job.deadline).toISOString() }, 'no reply from a worker within the deadline');
        this.giveUp(
          jobId,
          job,
          job.method === 'HandleEventV1'
            ? 'the EPOS did not confirm the event within its deadline; please deliver it again (an event is applied once however often it is delivered)'
            : noAnswerInTime(job.method),
        );
      }, ms);
      this.pending.set(jobId, { resolve, timer, rpcId: job.rpcId, failure });
      const data: RpcJob = { ...job, replyTo: this.stream };
      this.send(jobId, data).catch((err: Error) => {
        const p = this.pending.get(jobId);
        if (!p || p.claiming) return;
        this.log(job)?.error({ jobId, err: err?.message ?? String(err) }, 'the request could not be queued');
        this.giveUp(
          jobId,
          job,
          job.method === 'HandleEventV1'
            ? 'the EPOS could not accept the event just now; please deliver it again (an event is applied once however often it is delivered)'
            : 'the EPOS could not accept the request just now; nothing was applied',
        );
      });
    });
  }

  /**
   * enqueue(), tried again with a doubling wait while the request is still waiting, for at most sendRetryMs and never
   * with less than SEND_MIN_TIME_LEFT_MS left before its deadline. Sending twice is safe: a BullMQ job id is added
   * once (a completed job is kept past the last resend, see bullQueue); a stream entry that did reach Redis before the error is run again, which a state-changing request answers
   * from processed_requests, and its second reply finds nothing waiting.
   */
  private async send(jobId: string, data: RpcJob): Promise<void> {
    const until = Math.min(Date.now() + (this.opts.sendRetryMs ?? FAILOVER_RETRY_MS), data.deadline - SEND_MIN_TIME_LEFT_MS);
    await retryAcrossFailover(
      async (attempt) => {
        await this.enqueue(jobId, data);
        if (attempt > 1) this.log(data)?.info({ jobId, attempt }, 'the request was sent after a retry');
      },
      {
        until,
        // Closed, answered (the worker's reply came after all) or being settled at its deadline: nothing to send.
        stop: () => {
          const p = this.pending.get(jobId);
          return !this.running || !p || Boolean(p.claiming);
        },
      },
    );
  }

  private async enqueue(jobId: string, data: RpcJob): Promise<void> {
    if (this.sender) await this.sender.add(jobId, data);
    else await this.queue?.add(data.method, data, { jobId });
  }

  private log(job: Omit<RpcJob, 'replyTo'>): Logger | undefined {
    return this.opts.logger?.child(rpcLogFields(job));
  }

  /** The gateway answers `job` itself with an error (see call()). */
  private giveUp(jobId: string, job: Omit<RpcJob, 'replyTo'>, debugMessage: string): void {
    const p = this.pending.get(jobId);
    if (!p || p.claiming) return;
    clearTimeout(p.timer);
    const error = p.failure ? p.failure(debugMessage) : failure(job.rpcId, new EposError('UnexpectedError', debugMessage).toBody(job.traceId));
    const claim = this.opts.claim;
    const mutates = job.mutates ?? (isEposMethod(job.method) && METHOD_INFO[job.method].mutates);
    // HandleEventV1 has no stored answer (events are stored once per event id, so Dojo's redelivery is safe).
    if (!claim || !mutates || job.method === 'HandleEventV1') {
      this.pending.delete(jobId);
      p.resolve(error);
      return;
    }
    p.claiming = true;
    let wait = this.opts.claimRetryMs ?? 250;
    const attempt = () => {
      if (this.pending.get(jobId) !== p) return; // the worker's reply came first, or closed
      claim(job, error).then(
        (res) => {
          if (this.pending.get(jobId) !== p) return;
          this.pending.delete(jobId);
          if (!res.claimed) this.log(job)?.info({ jobId }, 'deadline passed after the worker stored its answer; sending that answer');
          p.resolve(res.response);
        },
        (err: unknown) => {
          if (this.pending.get(jobId) !== p) return;
          this.log(job)?.error(
            { jobId, err: (err as Error)?.message ?? String(err), retryInMs: wait },
            'could not settle the request in Postgres; no error is sent while a commit is still possible, waiting for the worker',
          );
          p.timer = setTimeout(attempt, wait);
          wait = Math.min(wait * 2, CLAIM_RETRY_MAX_MS);
        },
      );
    };
    attempt();
  }

  async close(): Promise<void> {
    this.running = false;
    this.reader.disconnect();
    // Both bounded: with Redis unreachable, a command queued while reconnecting is never settled by disconnect(),
    // and Queue.close() waits for a connection that may never come back.
    await bounded(this.loop?.catch(() => undefined), CLOSE_TIMEOUT_MS);
    await bounded(this.queue?.close().catch(() => undefined), CLOSE_TIMEOUT_MS);
    // BullMQ does not close a connection it was given.
    this.queueConnection.disconnect();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
    }
  }
}

