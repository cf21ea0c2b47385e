import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type Redis from 'ioredis';
import type { HealthIndicator, HealthRegistry, Logger } from '@app/common';
import { createRedis, workerMetrics } from '@app/common';
import type { Histogram } from 'prom-client';
import type { RpcJob } from './catalog';
import { QueueName, queuePrefix, rpcLogFields } from './catalog';
import { LoopHealth } from './loop-health';
import { DELETE_IF_VALUE } from './redis-scripts';

/**
 * The two implementations of the gateway -> worker request path (RPC_TRANSPORT):
 * `bullmq` (a BullMQ queue, rpc-client.ts / worker-host.ts) or `streams` (this
 * file: one Redis Stream read by a consumer group). Replies travel the same way
 * under both (the gateway replica's reply stream, reply-stream.ts).
 */
export const RPC_TRANSPORTS = ['bullmq', 'streams'] as const;
export type RpcTransport = (typeof RPC_TRANSPORTS)[number];

/** The consumer group every worker process joins (each process is one consumer). */
export const RPC_STREAM_GROUP = 'workers';
/**
 * Safety cap of the request stream (XADD MAXLEN ~). Workers delete each entry once answered, so the stream holds only
 * requests not yet answered; the cap only bites on a backlog far beyond any deadline (an entry trimmed unread was
 * answered by the gateway's deadline already, and XAUTOCLAIM drops trimmed ids from the pending list).
 */
export const RPC_STREAM_MAXLEN = 100_000;

/** The request stream's key: under the RPC queue's own hash tag (one slot on a Redis Cluster). */
export function rpcStreamKey(prefix: string): string {
  return `${queuePrefix(prefix, QueueName.Rpc)}:requests`;
}

/** The gateway's side: one XADD per request (auto-pipelined with the other requests of the same event-loop turn). */
export class StreamRpcSender {
  private readonly key: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = rpcStreamKey(prefix);
  }

  async add(jobId: string, data: RpcJob): Promise<void> {
    await this.redis.xadd(this.key, 'MAXLEN', '~', String(RPC_STREAM_MAXLEN), '*', 'j', jobId, 'd', JSON.stringify(data));
  }
}

/** What the RPC queue depth reads from the stream: entries not yet delivered (lag) and delivered but not answered (pending). */
export interface RpcStreamDepth {
  lag: number;
  pending: number;
  /** Age of the oldest entry not yet delivered to a worker (0 when none). */
  oldestWaitingSeconds: number;
}

function field(rows: unknown[], name: string): unknown {
  for (let i = 0; i + 1 < rows.length; i += 2) if (rows[i] === name) return rows[i + 1];
  return undefined;
}

/** Reads the group's lag and pending count (XINFO GROUPS; a stream or group not created yet has none of either). */
export async function readRpcStreamDepth(redis: Redis, prefix: string): Promise<RpcStreamDepth> {
  const key = rpcStreamKey(prefix);
  let groups: unknown[][];
  try {
    groups = (await redis.call('XINFO', 'GROUPS', key)) as unknown[][];
  } catch (err) {
    if (/no such key/i.test((err as Error).message)) return { lag: 0, pending: 0, oldestWaitingSeconds: 0 };
    throw err;
  }
  const group = groups.find((g) => field(g, 'name') === RPC_STREAM_GROUP);
  if (!group) {
    // No worker has started yet: everything in the stream is waiting.
    const first = (await redis.xrange(key, '-', '+', 'COUNT', 1))[0];
    return { lag: await redis.xlen(key), pending: 0, oldestWaitingSeconds: first ? ageOf(first[0]) : 0 };
  }
  const pending = Number(field(group, 'pending') ?? 0);
  const rawLag = field(group, 'lag');
  // Lag is unknown (nil) when entries were removed past the group's read position; answered entries are deleted,
  // so the stream's length is then what is waiting plus what is pending.
  const lag = rawLag === null || rawLag === undefined ? Math.max(0, (await redis.xlen(key)) - pending) : Number(rawLag);
  let oldestWaitingSeconds = 0;
  if (lag > 0) {
    const next = (await redis.xrange(key, `(${String(field(group, 'last-delivered-id'))}`, '+', 'COUNT', 1))[0];
    if (next) oldestWaitingSeconds = ageOf(next[0]);
  }
  return { lag, pending, oldestWaitingSeconds };
}

function ageOf(entryId: string): number {
  return Math.max(0, (Date.now() - Number(entryId.split('-')[0])) / 1000);
}

/** What XREADGROUP answers: per stream, its entries as [id, [field, value, ...]]; null when a blocking read timed out. */
type StreamRead = [string, [string, string[]][]][] | null;

/** One request taken from the stream. */
export interface StreamRpcJob {
  /** The stream entry's id (acknowledged and deleted once answered). */
  entryId: string;
  /** The gateway's job id, echoed in the reply. */
  jobId: string;
  data: RpcJob;
  /**
   * Acknowledges and deletes the entry (XACK + XDEL; once, later calls return the same promise). The processor calls it
   * in the same turn of the event loop as it writes its reply, so on the auto-pipelining connection the three commands
   * go to Redis in one write and come back in one read; when the processor did not call it (it threw first), the
   * consumer does once the processor has settled.
   */
  finish: () => Promise<void>;
}

export interface RpcStreamConsumerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  /**
   * Connection for acknowledgements, claims and deletes. Should be auto-pipelining (the worker's reply connection): the
   * XACK and XDEL of a job then go to Redis in the same write as its reply XADD (see StreamRpcJob.finish).
   */
  commands: Redis;
  logger?: Logger;
  health?: HealthRegistry;
  /** An entry delivered to a consumer and not acknowledged for this long is taken over by another one (its worker died). */
  claimIdleMs?: number;
  /** How long one XREADGROUP blocks; close() waits at most this long for it. */
  blockMs?: number;
  /**
   * Requests go to one worker while it keeps up (RPC_CONCENTRATE, default true): the holder of the reader lease blocks
   * on the stream as every worker did before; the others read without blocking and take only requests that have
   * waited `helpAfterMs`, again at once while they find such requests, when the oldest waiting one turns that old,
   * or every `pollMs` while none waits. So at a rate one worker keeps up with, one process wakes per request instead
   * of each worker in turn (Redis hands an entry to the reader that has waited longest); when the lease holder falls
   * behind, requests wait in the stream and the others take them.
   * False: every worker blocks, and entries go to them in turn.
   */
  concentrate?: boolean;
  /** The reader lease's lifetime (renewed at a third of it); a holder that stops renewing is replaced after it. */
  leaseMs?: number;
  /** How long a worker without the lease waits after a read that found nothing (25 ms). */
  pollMs?: number;
  /**
   * A worker without the lease takes requests only once the oldest one not yet delivered has waited this long (20 ms,
   * RPC_HELP_AFTER_MS; 0: as soon as it finds any). While the holder keeps up, a request waits in the stream at most
   * one turn of the holder's event loop and is left to it; when the holder stalls (a long GC pause, a burst beyond
   * what it keeps up with, a process that froze), the others take the backlog. Without this, a worker that found
   * requests read again at once and took a share of them whenever the holder was a turn behind.
   */
  helpAfterMs?: number;
}

const DEFAULT_CLAIM_IDLE_MS = 10_000;
const DEFAULT_BLOCK_MS = 1_000;
const READ_RETRY_MS = 500;
/** Consumers of dead processes that hold nothing and were idle this long are removed from the group. */
const FORGET_CONSUMER_AFTER_MS = 3_600_000;
const FORGET_EVERY_MS = 60_000;
const DEFAULT_LEASE_MS = 3_000;
const DEFAULT_POLL_MS = 25;
const DEFAULT_HELP_AFTER_MS = 20;

/**
 * The read of a worker without the reader lease: takes up to ARGV[3] new entries for consumer ARGV[2] of group ARGV[1],
 * but only when the oldest entry not yet delivered (the first after the group's last-delivered-id) has waited ARGV[4]
 * ms or more by Redis's clock (an entry id's first part is the XADD time in ms), or is ahead of that clock (ids never
 * go back: after Redis's clock stepped back, or on a promoted replica whose clock is behind the old master's, new
 * entries carry the old clock's time, and waiting for it would leave them to the holder alone). Answers {-1} without
 * the group, {0} when nothing waits, {1, age} when the oldest waiting entry is younger, {2, age, XREADGROUP's answer}
 * when it read.
 */
const READ_IF_LATE = `local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, id
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then id = g[i + 1] end
  end
  if name == ARGV[1] then last = id end
end
if not last then return {-1} end
local nxt = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)
if #nxt == 0 then return {0} end
local t = redis.call('TIME')
local age = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(string.match(nxt[1][1], '^(%d+)'))
if age >= 0 and age < tonumber(ARGV[4]) then return {1, age} end
return {2, age, redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')}`;

type ReadIfLate = [-1] | [0] | [1, number] | [2, number, StreamRead];
type ReaderRedis = Redis & { rpcReadIfLate(key: string, group: string, consumer: string, count: number, minAgeMs: number): Promise<ReadIfLate> };

/** The reader lease: kept by its holder (PEXPIRE), else taken when free. 1: held by ARGV[1]. */
const TAKE_LEASE = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** The key of the reader lease (RpcStreamConsumerOptions.concentrate): the stream's hash tag, one Cluster slot. */
export function rpcReaderLeaseKey(prefix: string): string {
  return `${queuePrefix(prefix, QueueName.Rpc)}:reader`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The worker's side of the `streams` transport. One consumer per process in
 * the group `workers`: XREADGROUP (blocking, COUNT = free slots, so at most
 * `concurrency` jobs run and none waits in this process while another could
 * take it), the processor (which XADDs the reply and, in the same write,
 * the entry's XACK and XDEL: the stream holds only unanswered requests).
 * With `concentrate` (RPC_CONCENTRATE) only the reader lease's holder
 * blocks; the other consumers read without blocking and take what it leaves
 * waiting for `helpAfterMs` (RPC_HELP_AFTER_MS).
 *
 * A worker that dies leaves its entries pending; every worker runs XAUTOCLAIM
 * every claimIdleMs/2 for entries idle longer than claimIdleMs and runs them.
 * The processor refuses a job whose deadline has passed, and a state-changing
 * request that did commit before the crash answers its stored response
 * (processed_requests): a request id is applied at most once. A job running
 * longer than claimIdleMs (a signature waiting for the POS) has its idle time
 * reset by its own consumer (XCLAIM ... JUSTID) so it is not taken over, also
 * while its worker is stopping.
 *
 * close() stops reading and taking over, waits for the blocked read to return,
 * runs what it returned and every job in flight to the end (still keeping their
 * entries from being taken over), then disconnects.
 */
export class RpcStreamConsumer implements HealthIndicator {
  readonly name = `worker:${QueueName.Rpc}`;
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly key: string;
  private readonly reader: Redis;
  private readonly claimIdleMs: number;
  private readonly blockMs: number;
  private readonly leaseKey: string;
  /** Holds the reader lease (always true when not concentrating: every consumer blocks). */
  private leader: boolean;
  private leaseTimer?: NodeJS.Timeout;
  private leasing?: Promise<void>;
  /** A consumer without the lease: how long to wait before its next read (0 after a read that took requests). */
  private nextReadInMs = 0;
  private readonly helpAfterMs: number;
  private readonly inFlight = new Map<string, { touchedAt: number; done: Promise<void> }>();
  private slotFreed?: () => void;
  private loop?: Promise<void>;
  private claimTimer?: NodeJS.Timeout;
  private claimCursor = '0-0';
  /** The claim tick under way, if any. */
  private claiming?: Promise<void>;
  private lastForgetAt = Date.now();
  private ready?: Promise<void>;
  /** The health rules of every queue consumer (started, closing, dead, Redis down, failing loop). */
  private readonly loopHealth: LoopHealth;
  private readonly durations = new Map<string, Histogram.Internal<string>>();

  constructor(
    private readonly opts: RpcStreamConsumerOptions,
    private readonly processor: (job: StreamRpcJob) => Promise<void>,
  ) {
    this.key = rpcStreamKey(opts.prefix);
    this.claimIdleMs = opts.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS;
    this.blockMs = opts.blockMs ?? DEFAULT_BLOCK_MS;
    this.leaseKey = rpcReaderLeaseKey(opts.prefix);
    this.leader = opts.concentrate === false;
    this.helpAfterMs = opts.helpAfterMs ?? DEFAULT_HELP_AFTER_MS;
    this.reader = createRedis(opts.redisUrl, 'blocking');
    this.reader.defineCommand('rpcReadIfLate', { numberOfKeys: 1, lua: READ_IF_LATE });
    this.loopHealth = new LoopHealth(QueueName.Rpc, this.reader, opts.logger);
    opts.health?.register(this);
  }

  get running(): number {
    return this.inFlight.size;
  }

  /** Whether this consumer blocks on the stream (it holds the reader lease, or requests are not concentrated). */
  get blocking(): boolean {
    return this.leader;
  }

  /** Creates the group if needed (from the stream's start: requests sent before any worker existed are served). */
  waitUntilReady(): Promise<void> {
    this.ready ??= this.reader
      .xgroup('CREATE', this.key, RPC_STREAM_GROUP, '0', 'MKSTREAM')
      .then(
        () => undefined,
        (err: Error) => {
          if (!/BUSYGROUP/.test(err.message)) throw err;
        },
      )
      .catch((err: unknown) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  start(): void {
    this.loopHealth.started = true;
    if (this.opts.concentrate !== false) {
      const leaseMs = this.opts.leaseMs ?? DEFAULT_LEASE_MS;
      const tick = () => (this.leasing ??= this.leaseTick(leaseMs).finally(() => (this.leasing = undefined)));
      void tick();
      this.leaseTimer = setInterval(() => void tick(), Math.max(10, Math.floor(leaseMs / 3)));
      this.leaseTimer.unref();
    }
    this.loop = this.readLoop().then(
      () => {
        if (!this.loopHealth.closing) this.loopHealth.die('the read loop ended without being asked to');
      },
      (err: Error) => this.loopHealth.die(`the read loop stopped: ${err.message}`),
    );
    this.claimTimer = setInterval(() => {
      this.claiming ??= this.claimTick().finally(() => (this.claiming = undefined));
    }, Math.max(50, Math.floor(this.claimIdleMs / 2)));
    this.claimTimer.unref();
  }

  /** Keeps or takes the reader lease; on an error this consumer keeps its role until a tick gets through. Never rejects. */
  private async leaseTick(leaseMs: number): Promise<void> {
    try {
      const held = Number(await this.opts.commands.eval(TAKE_LEASE, 1, this.leaseKey, this.consumer, String(leaseMs))) === 1;
      if (held !== this.leader && !this.loopHealth.closing) {
        this.opts.logger?.info({ queue: QueueName.Rpc, consumer: this.consumer }, held ? 'this worker now takes requests first (reader lease)' : 'another worker now takes requests first; this one takes what it leaves');
      }
      this.leader = held;
    } catch (err) {
      if (!this.loopHealth.closing) this.loopHealth.noteError(err as Error);
    }
  }

  /**
   * One read of up to `count` new entries. Blocking (the lease holder, or every consumer without concentration): one
   * XREADGROUP. Otherwise READ_IF_LATE, which also sets when to read next: at once after it took requests, when the
   * oldest waiting one turns helpAfterMs old, or after pollMs when none waits.
   */
  private async read(count: number, blocking: boolean): Promise<StreamRead> {
    await this.waitUntilReady();
    if (blocking) {
      return (await this.reader.xreadgroup('GROUP', RPC_STREAM_GROUP, this.consumer, 'COUNT', count, 'BLOCK', this.blockMs, 'STREAMS', this.key, '>')) as StreamRead;
    }
    const res = await (this.reader as ReaderRedis).rpcReadIfLate(this.key, RPC_STREAM_GROUP, this.consumer, count, this.helpAfterMs);
    switch (res[0]) {
      case -1:
        throw new Error(`NOGROUP no consumer group ${RPC_STREAM_GROUP} on ${this.key}`);
      case 0:
        this.nextReadInMs = this.opts.pollMs ?? DEFAULT_POLL_MS;
        return null;
      case 1:
        this.nextReadInMs = Math.max(1, this.helpAfterMs - res[1]);
        return null;
      default:
        this.nextReadInMs = 0;
        return res[2];
    }
  }

  private async readLoop(): Promise<void> {
    // The first lease tick decides whether the first read blocks.
    await this.leasing;
    while (!this.loopHealth.closing) {
      const free = this.opts.concurrency - this.inFlight.size;
      if (free <= 0) {
        await new Promise<void>((r) => (this.slotFreed = r));
        continue;
      }
      const blocking = this.leader;
      if (!blocking && this.nextReadInMs > 0) await sleep(this.nextReadInMs);
      if (this.loopHealth.closing) return;
      let res: StreamRead;
      try {
        res = await this.read(free, blocking);
      } catch (err) {
        if (this.loopHealth.closing) return;
        // The stream or group was deleted (a Redis flush, a failover to an empty replica): create them again.
        if (/NOGROUP|no such key/i.test((err as Error).message)) this.ready = undefined;
        this.loopHealth.noteError(err as Error);
        await sleep(READ_RETRY_MS);
        continue;
      }
      this.loopHealth.progress();
      const entries = res?.flatMap(([, e]) => e) ?? [];
      for (const [id, fields] of entries) this.dispatch(id, fields);
    }
  }

  /** `takenOver`: the entry came from another consumer by XAUTOCLAIM (logged). */
  private dispatch(entryId: string, fields: string[] | null, takenOver = false): void {
    if (this.inFlight.has(entryId)) return; // reclaimed while still running here
    const jobId = fields ? fields[fields.indexOf('j') + 1] : undefined;
    const raw = fields ? fields[fields.indexOf('d') + 1] : undefined;
    let data: RpcJob | undefined;
    try {
      data = raw ? (JSON.parse(raw) as RpcJob) : undefined;
    } catch {
      data = undefined;
    }
    if (!jobId || !data) {
      this.opts.logger?.warn({ queue: QueueName.Rpc, entryId }, 'unreadable request stream entry; dropped');
      void this.finish(entryId);
      return;
    }
    if (takenOver) {
      this.opts.logger?.warn(
        { queue: QueueName.Rpc, entryId, ...rpcLogFields(data) },
        'took over a request whose worker stopped answering',
      );
    }
    let finished: Promise<void> | undefined;
    const job: StreamRpcJob = { entryId, jobId, data, finish: () => (finished ??= this.finish(entryId)) };
    const done = this.run(job).finally(() => {
      this.inFlight.delete(entryId);
      const freed = this.slotFreed;
      this.slotFreed = undefined;
      freed?.();
    });
    this.inFlight.set(entryId, { touchedAt: Date.now(), done });
  }

  private async run(job: StreamRpcJob): Promise<void> {
    const t0 = performance.now();
    try {
      await this.processor(job);
    } catch (err) {
      // Same as the BullMQ path (attempts: 1): the job is not run again; the gateway's deadline answers it.
      this.opts.logger?.warn(
        { queue: QueueName.Rpc, locationId: job.data.locationId, method: job.data.method, rpcId: job.data.rpcId, traceId: job.data.traceId, err: (err as Error)?.message },
        'queue job failed',
      );
    } finally {
      let h = this.durations.get(job.data.method);
      if (!h) this.durations.set(job.data.method, (h = workerMetrics().jobDuration.labels(QueueName.Rpc, job.data.method)));
      h.observe((performance.now() - t0) / 1000);
    }
    await job.finish();
  }

  /** XACK and XDEL, issued together (one write with the reply on an auto-pipelining connection). Never rejects. */
  private async finish(entryId: string): Promise<void> {
    try {
      await Promise.all([this.opts.commands.xack(this.key, RPC_STREAM_GROUP, entryId), this.opts.commands.xdel(this.key, entryId)]);
    } catch (err) {
      // Not fatal: the entry stays pending, another worker claims it after claimIdleMs and answers its stored response.
      this.loopHealth.noteError(err as Error);
    }
  }

  /**
   * Keeps this consumer's long jobs from being claimed; unless closing, also takes over entries of dead consumers and
   * forgets old consumers. Never rejects.
   */
  private async claimTick(): Promise<void> {
    try {
      const now = Date.now();
      const old = [...this.inFlight].filter(([, f]) => now - f.touchedAt >= this.claimIdleMs / 3).map(([id]) => id);
      if (old.length > 0) {
        await this.opts.commands.call('XCLAIM', this.key, RPC_STREAM_GROUP, this.consumer, '0', ...old, 'JUSTID');
        for (const id of old) {
          const f = this.inFlight.get(id);
          if (f) f.touchedAt = now;
        }
      }
      // A stopping consumer takes nothing new: it only keeps its own jobs' entries until they are answered.
      if (this.loopHealth.closing) return;
      const free = this.opts.concurrency - this.inFlight.size;
      if (free > 0) {
        const [cursor, entries] = (await this.opts.commands.call(
          'XAUTOCLAIM', this.key, RPC_STREAM_GROUP, this.consumer, String(this.claimIdleMs), this.claimCursor, 'COUNT', String(free),
        )) as [string, [string, string[] | null][]];
        this.claimCursor = cursor;
        for (const [id, fields] of entries) {
          if (!this.inFlight.has(id)) this.dispatch(id, fields, true);
        }
      }
      if (now - this.lastForgetAt >= FORGET_EVERY_MS) {
        this.lastForgetAt = now;
        await this.forgetDeadConsumers();
      }
    } catch (err) {
      if (!this.loopHealth.closing) this.loopHealth.noteError(err as Error);
    }
  }

  private async forgetDeadConsumers(): Promise<void> {
    const consumers = (await this.opts.commands.call('XINFO', 'CONSUMERS', this.key, RPC_STREAM_GROUP)) as unknown[][];
    for (const c of consumers) {
      const name = String(field(c, 'name'));
      if (name !== this.consumer && Number(field(c, 'pending')) === 0 && Number(field(c, 'idle')) >= FORGET_CONSUMER_AFTER_MS) {
        await this.opts.commands.xgroup('DELCONSUMER', this.key, RPC_STREAM_GROUP, name);
      }
    }
  }

  private async releaseLease(): Promise<void> {
    try {
      await this.leasing;
      // Only if this consumer still holds it: another takes it at its next renewal, not when it runs out.
      await this.opts.commands.eval(DELETE_IF_VALUE, 1, this.leaseKey, this.consumer);
    } catch {
      // Redis unreachable: the lease runs out on its own.
    }
    this.leader = false;
  }

  check(): { ok: boolean; error?: string } {
    return this.loopHealth.check();
  }

  /**
   * Graceful: no new reads and no takeovers; the blocked read's entries and every job in flight run to the end. The
   * claim timer runs until then: its keep-alive stops another worker from taking over (and running again) a job still
   * running here, such as a signature waiting for the POS.
   */
  async close(): Promise<void> {
    this.loopHealth.closing = true;
    this.opts.health?.unregister(this);
    const freed = this.slotFreed;
    this.slotFreed = undefined;
    freed?.();
    // Also for a takeover under way when closing began: the jobs it adds run too. With Redis unreachable the read never
    // returns: wait at most one block time plus a margin.
    let timer: NodeJS.Timeout | undefined;
    clearInterval(this.leaseTimer);
    await Promise.race([Promise.all([this.loop, this.claiming]), new Promise<void>((r) => (timer = setTimeout(r, this.blockMs + 1_000)))]);
    clearTimeout(timer);
    // Another worker takes the lease at its next tick rather than after the lease runs out.
    if (this.opts.concentrate !== false) await this.releaseLease();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()].map((f) => f.done));
    clearInterval(this.claimTimer);
    this.reader.disconnect();
  }

}
