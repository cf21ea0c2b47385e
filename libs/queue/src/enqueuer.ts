import type { Job, JobsOptions} from 'bullmq';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import type { JobData, JobName, QueueName, QueuePayloads} from './catalog';
import { queueOf, queuePrefix } from './catalog';

export interface JobEnqueuerOptions {
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
}

/**
 * The one typed producer: `add(name, data)` puts the job on the queue its name
 * belongs to (catalog.ts), with a payload type checked against that name.
 * Queues are opened on first use and share one command connection.
 */
export class JobEnqueuer {
  private readonly connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();

  constructor(private readonly opts: JobEnqueuerOptions) {
    this.connection = createRedis(opts.redisUrl, 'command');
  }

  queue<Q extends QueueName>(name: Q): Queue<QueuePayloads[Q]> {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: queuePrefix(this.opts.prefix, name) });
      q.on('error', () => undefined); // a failed add() is reported to its caller
      this.queues.set(name, q);
    }
    return q as Queue<QueuePayloads[Q]>;
  }

  add<N extends JobName>(name: N, data: JobData<N>, opts?: JobsOptions): Promise<Job<JobData<N>>> {
    const q = this.queue(queueOf(name)) as unknown as Queue<JobData<N>>;
    return (q.add as unknown as (n: string, d: JobData<N>, o?: JobsOptions) => Promise<Job<JobData<N>>>)(name, data, opts);
  }

  getJob<N extends JobName>(name: N, jobId: string): Promise<Job<JobData<N>> | undefined> {
    const q = this.queue(queueOf(name)) as unknown as Queue<JobData<N>>;
    return q.getJob(jobId);
  }

  async close(): Promise<void> {
    for (const q of this.queues.values()) await q.close().catch(() => undefined);
    this.queues.clear();
    this.connection.disconnect();
  }
}
