import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { cachedSource, CONFIG, metricsAuthorized } from '@app/common';
import type { WorkerConfig } from '@app/config';
import { QueueName } from '@app/queue';
import { WorkerMetricsService } from './worker-metrics.service';

/**
 * GET /metrics/queue-depth: the backlog KEDA scales the workers on (its
 * `metrics-api` scaler reads `depth`, see deploy/k8s). The depth of a queue is
 * its waiting plus prioritized jobs: BullMQ keeps prioritized jobs in a sorted
 * set of their own, so the length of the wait list alone misses them. With
 * RPC_TRANSPORT=streams the RPC queue's depth is the consumer group's lag plus
 * its pending entries (delivered, not answered: in flight, or held by a dead
 * worker until another takes them over), reported as waiting and active. Same
 * token rule as GET /metrics; read from Redis at most every 2 s.
 */
@Controller('metrics/queue-depth')
export class QueueDepthController {
  private readonly read: () => Promise<{ depth: number; queues: Record<string, { waiting: number; prioritized: number; depth: number }> }>;

  constructor(
    @Inject(CONFIG) private readonly config: WorkerConfig,
    metrics: WorkerMetricsService,
  ) {
    this.read = cachedSource(async () => {
      const snapshot = await metrics.readQueues();
      const queues: Record<string, { waiting: number; prioritized: number; depth: number }> = {};
      let depth = 0;
      for (const [name, q] of Object.entries(snapshot)) {
        const waiting = q.counts.waiting ?? 0;
        const prioritized = q.counts.prioritized ?? 0;
        const pending = name === QueueName.Rpc && config.RPC_TRANSPORT === 'streams' ? (q.counts.active ?? 0) : 0;
        queues[name] = { waiting, prioritized, depth: waiting + prioritized + pending };
        depth += waiting + prioritized + pending;
      }
      return { depth, queues };
    }, 2_000);
  }

  @Get()
  async depth(@Res() res: Response): Promise<void> {
    if (!metricsAuthorized(res, this.config.METRICS_TOKEN)) return;
    res.status(200).json(await this.read());
  }
}
