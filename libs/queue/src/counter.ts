import type { Job, JobsOptions } from 'bullmq';
import type Redis from 'ioredis';
import type { HealthRegistry, Logger } from '@app/common';
import type { CounterCommandMessage, CounterEvent, CounterSettleJob, CounterTerminalsSnapshot } from '@app/contracts';
import { COUNTER_PRESENCE_TTL_MS, CounterChannels, counterListenersKey, counterSignatureKey, counterTerminalsKey } from '@app/contracts';
import { JobName, QueueName } from './catalog';
import { readConnectionStatuses } from './connection-status';
import type { JobEnqueuer } from './enqueuer';
import { QueueWorker } from './worker-host';

/** A signature decision (the domain's SignatureDecision). */
interface SignatureDecision {
  accepted: boolean;
  by: 'pos' | 'default';
}

/** A decision outlives the transaction by far (Connect's own window is 80 s). */
const SIGNATURE_TTL_S = 3_600;

/**
 * The Redis side of pay at counter (the domain's CounterSignals port): events
 * published on the location's channel after their commit, whether a POS
 * listens (the admin's streams' presence), the gateways' wake-up,
 * first-writer-wins signature decisions (SET NX), the terminals snapshot the
 * owning gateway writes and its link state. A failed publish is
 * logged, never thrown: the gateways poll and the SSE streams read Postgres.
 */
export class RedisCounterSignals {
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async publishEvents(locationId: string, events: readonly CounterEvent[]): Promise<number> {
    let listeners = 0;
    for (const e of events) {
      try {
        listeners = Math.max(listeners, await this.redis.publish(CounterChannels.events(this.prefix, locationId), JSON.stringify(e)));
      } catch (err) {
        this.logger.warn({ locationId, eventId: e.id, err: (err as Error).message }, 'could not publish a counter event; streams read it from Postgres');
      }
    }
    return listeners;
  }

  /**
   * Marks `holder` (an admin replica's stream hub) as having a stream of the location open, until
   * COUNTER_PRESENCE_TTL_MS from now unless refreshed; lapsed holders are dropped on the way.
   */
  async present(locationId: string, holder: string): Promise<void> {
    const key = counterListenersKey(this.prefix, locationId);
    const now = Date.now();
    try {
      await this.redis.multi().zadd(key, now + COUNTER_PRESENCE_TTL_MS, holder).zremrangebyscore(key, '-inf', now).pexpire(key, COUNTER_PRESENCE_TTL_MS).exec();
    } catch (err) {
      this.logger.warn({ locationId, err: (err as Error).message }, 'could not mark the counter stream present; a signature request may take the default at once');
    }
  }

  /** `holder` has no stream of the location open any more. */
  async absent(locationId: string, holder: string): Promise<void> {
    try {
      await this.redis.zrem(counterListenersKey(this.prefix, locationId), holder);
    } catch (err) {
      this.logger.warn({ locationId, err: (err as Error).message }, 'could not mark the counter stream absent; it lapses by itself');
    }
  }

  async listening(locationId: string): Promise<boolean> {
    try {
      return (await this.redis.zcount(counterListenersKey(this.prefix, locationId), Date.now(), '+inf')) > 0;
    } catch (err) {
      this.logger.warn({ locationId, err: (err as Error).message }, 'could not read whether a POS listens; taken as not');
      return false;
    }
  }

  async notifyGateways(msg: CounterCommandMessage): Promise<void> {
    try {
      await this.redis.publish(CounterChannels.commands(this.prefix), JSON.stringify(msg));
    } catch (err) {
      this.logger.warn({ locationId: msg.locationId, what: msg.what, err: (err as Error).message }, 'could not wake the gateways; the owner polls');
    }
  }

  async decideSignature(transactionId: string, d: SignatureDecision): Promise<boolean> {
    const r = await this.redis.set(counterSignatureKey(this.prefix, transactionId), JSON.stringify(d), 'EX', SIGNATURE_TTL_S, 'NX');
    return r === 'OK';
  }

  async signatureDecision(transactionId: string): Promise<SignatureDecision | null> {
    const raw = await this.redis.get(counterSignatureKey(this.prefix, transactionId));
    return raw ? (JSON.parse(raw) as SignatureDecision) : null;
  }

  async terminals(locationId: string): Promise<CounterTerminalsSnapshot | null> {
    const raw = await this.redis.get(counterTerminalsKey(this.prefix, locationId));
    return raw ? (JSON.parse(raw) as CounterTerminalsSnapshot) : null;
  }

  /** From now on `stopping()` is true: the worker is closing, its signature waits end with the venue's default. */
  stop(): void {
    this.stopped = true;
  }

  stopping(): boolean {
    return this.stopped;
  }

  /** The PAC link's state: the status record's `counter` part (beside another link), or the record itself when connect-pac is the location's protocol. */
  async linkState(locationId: string): Promise<{ state: string; since?: string; lastError?: string } | null> {
    const s = (await readConnectionStatuses(this.redis, this.prefix, [locationId])).get(locationId) as
      | ({ state: string; since?: string; lastError?: string; profile?: string; counter?: { state: string; since?: string; lastError?: string } })
      | undefined;
    if (!s) return null;
    if (s.counter) return { state: s.counter.state, ...(s.counter.since ? { since: s.counter.since } : {}), ...(s.counter.lastError ? { lastError: s.counter.lastError } : {}) };
    if (s.profile === 'connect-pac' || s.state === 'unowned') return { state: s.state, ...(s.since ? { since: s.since } : {}), ...(s.lastError ? { lastError: s.lastError } : {}) };
    return null;
  }
}

/**
 * Enqueues a settle job (the gateway, once it read an outcome). The job id is
 * the transaction's plus the outcome's kind, so enqueuing the same outcome
 * twice is one job; a second, different outcome (a recovery racing a late
 * reply) is settled once anyway by SettleCounterTransaction.
 */
export function enqueueCounterSettle(jobs: JobEnqueuer, job: CounterSettleJob, opts: JobsOptions = {}): Promise<Job<CounterSettleJob>> {
  return jobs.add(JobName.SettleCounter, job, {
    jobId: `counter.${job.transactionId}.${job.outcome.kind}`,
    attempts: 20,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { age: 3_600 },
    removeOnFail: { age: 86_400 },
    ...opts,
  });
}

/** What settles one job (the domain's SettleCounterTransaction). */
export interface CounterSettler {
  execute(job: CounterSettleJob): Promise<{ kind: string }>;
}

/**
 * Consumes QueueName.Counter: settles each outcome once (the settler decides
 * in one transaction; a repeated job changes nothing). A failure (Postgres
 * down) is retried with the job's backoff.
 */
export class CounterSettleWorker {
  private readonly worker: QueueWorker<typeof QueueName.Counter>;

  constructor(
    opts: { redisUrl: string; prefix: string; concurrency: number; health?: HealthRegistry },
    private readonly settler: CounterSettler,
    logger: Logger,
  ) {
    this.worker = new QueueWorker(
      { queue: QueueName.Counter, ...opts, logger, describe: (d) => ({ locationId: d.locationId, transactionId: d.transactionId, outcome: d.outcome.kind }) },
      (job: Job<CounterSettleJob>) => this.settler.execute(job.data).then(() => undefined),
    );
  }

  start(): void {
    this.worker.start();
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
